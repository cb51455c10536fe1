/** A Service that runs one function every `intervalMs` (or sooner when woken); runs never overlap. */
import type { Logger } from './logger.js';
import { Service } from './service.js';

export class PeriodicTask extends Service {
  constructor(
    name: string,
    intervalMs: number,
    log: Logger,
    private readonly fn: () => Promise<void> | void,
  ) {
    super(name, intervalMs, log);
  }

  protected onRun(): Promise<void> | void {
    return this.fn();
  }
}
