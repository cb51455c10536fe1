/**
 * Background work: one small base for every loop (flush, reput, cleanup, register-broker,
 * rebalance, long-polling scan). A service runs `onRun` every `intervalMs`, or sooner when woken;
 * runs never overlap; `stop` waits for the run in progress. Errors in a run are logged, never fatal.
 */
import type { Logger } from './logger.js';

export abstract class Service {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private wokenDuringRun = false;

  protected constructor(
    readonly name: string,
    protected intervalMs: number,
    protected readonly log: Logger,
  ) {}

  protected abstract onRun(): Promise<void> | void;

  start(initialDelayMs = this.intervalMs): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(initialDelayMs);
  }

  /** Runs as soon as possible (after the run in progress, if any). */
  wakeup(): void {
    if (this.stopped) return;
    if (this.running) {
      this.wokenDuringRun = true;
      return;
    }
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  private schedule(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), delayMs);
    this.timer.unref();
  }

  private tick(): void {
    this.timer = undefined;
    if (this.stopped || this.running) return;
    this.wokenDuringRun = false;
    this.running = (async () => {
      try {
        await this.onRun();
      } catch (err) {
        this.log.error({ err, service: this.name }, 'service run failed');
      }
    })().finally(() => {
      this.running = undefined;
      if (!this.stopped) this.schedule(this.wokenDuringRun ? 0 : this.intervalMs);
    });
  }
}
