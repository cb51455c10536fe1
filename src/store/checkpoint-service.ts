/**
 * Keeps the checkpoint moving (upstream FlushConsumeQueueService): every flushIntervalConsumeQueue
 * ms, when at least flushConsumeQueueLeastPages pages of queue units are unflushed or
 * flushConsumeQueueThoroughInterval has passed, flush the ConsumeQueues and the index, then record
 * how far everything is durable. The recorded dispatch offset never passes the CommitLog's flushed
 * offset, so recovery may always start there.
 *
 * Restart time after a crash is the walk from that offset to the end of the log, so under a heavy
 * write load the checkpoint also moves every CHECKPOINT_BYTES dispatched (flushing the CommitLog
 * first, so the flushed offset does not hold it back): at 500 MB/s a 1 s interval had left up to
 * 800 MB to re-read and check, about 3 s of restart.
 */
import type { Logger } from '../common/logger.js';
import type { StoreCheckpoint } from './checkpoint.js';
import type { FlushService } from './commitlog/flush-service.js';
import type { ConsumeQueueStore } from './consume-queue/consume-queue-store.js';
import type { ReputService } from './dispatch/reput-service.js';
import type { IndexService } from './index/index-service.js';
import type { MessageStoreConfig } from './message-store-config.js';

/** Dispatched bytes after which a checkpoint is due whatever the interval. */
export const CHECKPOINT_BYTES = 64 * 1024 * 1024;
/** How often the byte trigger is looked at. */
const TICK_MS = 100;

export class CheckpointService {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastThorough = Date.now();
  private lastRun = Date.now();
  private lastDispatched = 0;

  constructor(
    private readonly cfg: MessageStoreConfig,
    private readonly cp: StoreCheckpoint,
    private readonly flusher: FlushService,
    private readonly cqs: ConsumeQueueStore,
    private readonly index: IndexService | undefined,
    private readonly reput: ReputService,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.lastDispatched = this.reput.reputFromOffset;
    this.timer = setInterval(() => void this.tick(), Math.min(TICK_MS, this.cfg.flushIntervalConsumeQueue));
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private tick(): void {
    if (this.running) return;
    if (this.reput.reputFromOffset - this.lastDispatched >= CHECKPOINT_BYTES) {
      void this.run(-1, true);
      return;
    }
    const now = Date.now();
    if (now - this.lastRun < this.cfg.flushIntervalConsumeQueue) return;
    const thorough = now - this.lastThorough >= this.cfg.flushConsumeQueueThoroughInterval;
    if (!thorough && this.cqs.unitsSinceFlush * 20 < this.cfg.flushConsumeQueueLeastPages * 4096) return;
    if (thorough) this.lastThorough = now;
    void this.run();
  }

  /**
   * Flushes queues and index and writes the checkpoint; with `flushLog` the CommitLog is flushed
   * first, so the checkpoint can move up to what was dispatched.
   */
  run(cleanEnd = -1, flushLog = false): Promise<void> {
    if (this.running) return this.running.then(() => this.run(cleanEnd, flushLog));
    this.running = (async () => {
      const t0 = Date.now();
      this.lastRun = t0;
      const dispatched = this.reput.reputFromOffset;
      this.lastDispatched = dispatched;
      if (flushLog) await this.flusher.flushAll();
      const ts = this.reput.lastDispatchedTimestamp;
      await this.cqs.flushAll();
      const t1 = Date.now();
      await this.index?.flush(true);
      const flushed = this.flusher.flushedOffset;
      this.log.debug({ dispatched, flushed, cqMs: t1 - t0, indexMs: Date.now() - t1 }, 'checkpoint');
      this.cp.dispatchedPhyOffset = Math.min(dispatched, flushed);
      this.cp.flushedPhyOffset = flushed;
      if (this.flusher.flushedStoreTimestamp > 0)
        this.cp.physicMsgTimestamp = this.flusher.flushedStoreTimestamp;
      if (ts > 0) {
        this.cp.logicsMsgTimestamp = ts;
        this.cp.indexMsgTimestamp = ts;
      }
      this.cp.cleanEndOffset = cleanEnd;
      await this.cp.flush();
    })()
      .catch((err: unknown) => this.log.error({ err }, 'checkpoint failed'))
      .finally(() => (this.running = undefined));
    return this.running;
  }
}
