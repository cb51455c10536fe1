/**
 * Keeps the checkpoint moving (upstream FlushConsumeQueueService): every flushIntervalConsumeQueue
 * ms, when at least flushConsumeQueueLeastPages pages of queue units are unflushed or
 * flushConsumeQueueThoroughInterval has passed, flush the ConsumeQueues and the index, then record
 * how far everything is durable. The recorded dispatch offset never passes the CommitLog's flushed
 * offset, so recovery may always start there.
 */
import type { Logger } from '../common/logger.js';
import type { StoreCheckpoint } from './checkpoint.js';
import type { FlushService } from './commitlog/flush-service.js';
import type { ConsumeQueueStore } from './consume-queue/consume-queue-store.js';
import type { ReputService } from './dispatch/reput-service.js';
import type { IndexService } from './index/index-service.js';
import type { MessageStoreConfig } from './message-store-config.js';

export class CheckpointService {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastThorough = Date.now();

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
    this.timer = setInterval(() => void this.tick(), this.cfg.flushIntervalConsumeQueue);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private tick(): void {
    if (this.running) return;
    const now = Date.now();
    const thorough = now - this.lastThorough >= this.cfg.flushConsumeQueueThoroughInterval;
    if (!thorough && this.cqs.unitsSinceFlush * 20 < this.cfg.flushConsumeQueueLeastPages * 4096) return;
    if (thorough) this.lastThorough = now;
    void this.run();
  }

  /** Flushes queues and index and writes the checkpoint. */
  run(cleanEnd = -1): Promise<void> {
    if (this.running) return this.running.then(() => this.run(cleanEnd));
    this.running = (async () => {
      const dispatched = this.reput.reputFromOffset;
      const ts = this.reput.lastDispatchedTimestamp;
      await this.cqs.flushAll();
      await this.index?.flush(true);
      const flushed = this.flusher.flushedOffset;
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
