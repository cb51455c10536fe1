/**
 * Making the CommitLog durable (upstream GroupCommitService + FlushRealTimeService).
 *
 * SYNC_FLUSH: a put waits for an fdatasync whose start came after its bytes were written. Waiters
 * are grouped: when an fdatasync completes, every waiter it covers is released and the next
 * fdatasync (if anyone waits) starts at once, covering everything written meanwhile: one call
 * per batch of waiters, never one per message. A waiter not covered within syncFlushTimeout gets
 * FLUSH_DISK_TIMEOUT (its bytes are stored, not yet known durable).
 *
 * ASYNC_FLUSH: every flushIntervalCommitLog ms, fdatasync when at least flushCommitLogLeastPages
 * pages are dirty, or whatever is dirty once flushCommitLogThoroughInterval has passed.
 *
 * An fdatasync error is fatal for writes: after it the kernel may have dropped the dirty pages,
 * so nothing written since the last good flush is known to be on disk. The store stops accepting
 * writes and logs it at fatal level.
 */
import type { Logger } from '../../common/logger.js';
import type { CommitLog } from './commitlog.js';

const OS_PAGE_SIZE = 4096;

export type FlushWaitResult = 'OK' | 'TIMEOUT' | 'FAILED';

interface Waiter {
  end: number;
  deadline: number;
  resolve: (r: FlushWaitResult) => void;
}

export class FlushService {
  flushedOffset = 0;
  flushedStoreTimestamp = 0;
  /** Called after a flush moved flushedOffset (checkpoint bookkeeping). */
  onFlushed: (() => void) | undefined;
  private waiters: Waiter[] = [];
  private flushing = false;
  private timer: NodeJS.Timeout | undefined;
  private timeoutTimer: NodeJS.Timeout | undefined;
  private lastThorough = Date.now();
  private failed: unknown;

  constructor(
    private readonly commitLog: CommitLog,
    private readonly opts: {
      sync: boolean;
      syncFlushTimeout: number;
      flushInterval: number;
      leastPages: number;
      thoroughInterval: number;
    },
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.periodic(), this.opts.flushInterval);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.timeoutTimer) clearInterval(this.timeoutTimer);
    this.timer = undefined;
    this.timeoutTimer = undefined;
  }

  get isFailed(): boolean {
    return this.failed !== undefined;
  }

  /** SYNC_FLUSH: resolves once an fdatasync covered every byte below `end`. */
  waitFlushed(end: number): Promise<FlushWaitResult> {
    if (this.failed !== undefined) return Promise.resolve('FAILED');
    if (end <= this.flushedOffset) return Promise.resolve('OK');
    return new Promise<FlushWaitResult>((resolve) => {
      this.waiters.push({ end, deadline: Date.now() + this.opts.syncFlushTimeout, resolve });
      if (!this.timeoutTimer) {
        this.timeoutTimer = setInterval(() => this.expire(), Math.min(100, this.opts.syncFlushTimeout));
        this.timeoutTimer.unref();
      }
      this.kick();
    });
  }

  /** The CommitLog wrote more: start a group flush when someone waits for one. */
  onWritten(): void {
    if (this.waiters.length > 0) this.kick();
  }

  /** Flushes everything written so far (shutdown, checkpoint). */
  async flushAll(): Promise<void> {
    while (this.flushing) await new Promise((r) => setImmediate(r));
    await this.flushOnce();
  }

  private kick(): void {
    if (this.flushing || this.failed !== undefined) return;
    const w = this.waiters[0];
    if (!w || this.commitLog.writtenOffset <= this.flushedOffset) return;
    void this.flushOnce().then(() => {
      if (this.waiters.length > 0) this.kick();
    });
  }

  private periodic(): void {
    if (this.flushing || this.failed !== undefined) return;
    const dirty = this.commitLog.writtenOffset - this.flushedOffset;
    if (dirty <= 0) return;
    const now = Date.now();
    const thorough = now - this.lastThorough >= this.opts.thoroughInterval;
    if (thorough || dirty >= this.opts.leastPages * OS_PAGE_SIZE) {
      if (thorough) this.lastThorough = now;
      void this.flushOnce();
    }
  }

  private async flushOnce(): Promise<void> {
    if (this.flushing || this.failed !== undefined) return;
    const target = this.commitLog.writtenOffset;
    const ts = this.commitLog.writtenStoreTimestamp;
    if (target <= this.flushedOffset) return;
    this.flushing = true;
    try {
      const files = this.commitLog.files.files;
      for (const f of files) {
        if (f.fileEndOffset <= this.flushedOffset || f.fileFromOffset >= target) continue;
        await f.flush();
      }
      this.flushedOffset = target;
      this.flushedStoreTimestamp = ts;
      this.release();
      this.onFlushed?.();
    } catch (err) {
      this.failed = err;
      this.commitLog.fatal(`fdatasync failed: ${String(err)}`);
      this.log.fatal({ err }, 'CommitLog fdatasync failed; the store stops accepting writes');
      for (const w of this.waiters) w.resolve('FAILED');
      this.waiters = [];
    } finally {
      this.flushing = false;
    }
  }

  private release(): void {
    let i = 0;
    const ws = this.waiters;
    while (i < ws.length && ws[i]!.end <= this.flushedOffset) ws[i++]!.resolve('OK');
    if (i > 0) this.waiters = ws.slice(i);
    if (this.waiters.length === 0 && this.timeoutTimer) {
      clearInterval(this.timeoutTimer);
      this.timeoutTimer = undefined;
    }
  }

  private expire(): void {
    const now = Date.now();
    const keep: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.deadline <= now) w.resolve('TIMEOUT');
      else keep.push(w);
    }
    this.waiters = keep;
  }
}
