/**
 * Making the CommitLog durable (upstream GroupCommitService + FlushRealTimeService).
 *
 * SYNC_FLUSH: a put waits for an fdatasync whose start came after its bytes were written. Waiters
 * are grouped: when an fdatasync completes, every waiter it covers is released and the next
 * fdatasync (if anyone waits) starts at once, covering everything written meanwhile: one call
 * per batch of waiters, never one per message. When the CommitLog's writer thread has nothing else
 * queued it does this itself: it ends its round of writes with an fdatasync of the files it wrote
 * and reports it (onThreadSynced), so that group commit costs no event-loop round trip between the
 * write and the fdatasync, nor a thread-pool hop (write-loop.ts threadSyncWanted). The event loop
 * flushes the rest: rounds written under backlog, inline writes, and an earlier segment after a
 * roll. A waiter not covered within syncFlushTimeout gets FLUSH_DISK_TIMEOUT (its bytes are
 * stored, not yet known durable). A put registers here directly (one promise per put); if its
 * bytes never reach the file (a failed write) it gets the write's failure instead.
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
import { WaiterQueue } from './waiter-queue.js';
import { AppendResult } from '../append-result.js';
import { PutMessageStatus, type PutMessageResult } from '../store-types.js';

const OS_PAGE_SIZE = 4096;

export type FlushWaitResult = 'OK' | 'TIMEOUT' | 'FAILED';

export class FlushService {
  flushedOffset = 0;
  flushedStoreTimestamp = 0;
  /** fdatasync rounds that moved flushedOffset: the event loop's, and the writer thread's. */
  loopFlushes = 0;
  threadSyncs = 0;
  /** Called after a flush moved flushedOffset (checkpoint bookkeeping). */
  onFlushed: (() => void) | undefined;
  private readonly waiters = new WaiterQueue();
  private flushing = false;
  private timer: NodeJS.Timeout | undefined;
  private timeoutTimer: NodeJS.Timeout | undefined;
  private lastThorough = Date.now();
  private failed: unknown;
  private readonly ok = (r: AppendResult | undefined): unknown =>
    r ? { status: PutMessageStatus.PUT_OK, appendResult: r } : 'OK';
  private readonly timedOut = (r: AppendResult | undefined): unknown =>
    r ? { status: PutMessageStatus.FLUSH_DISK_TIMEOUT, appendResult: r } : 'TIMEOUT';
  private readonly flushFailed = (r: AppendResult | undefined): unknown =>
    r
      ? { status: PutMessageStatus.FLUSH_DISK_TIMEOUT, appendResult: r, remark: this.commitLog.stateReason }
      : 'FAILED';
  private readonly writeFailed = (r: AppendResult | undefined): unknown =>
    r
      ? { status: this.commitLog.failureStatus(), remark: `write failed: ${this.commitLog.stateReason}` }
      : 'FAILED';

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
    return new Promise<FlushWaitResult>((resolve) => this.register(end, resolve, undefined));
  }

  /**
   * A put appended below `end` that must be durable before it is answered: resolves with PUT_OK,
   * FLUSH_DISK_TIMEOUT, or the write's failure. Called right after the append (bytes not yet written).
   */
  waitPut(end: number, result: AppendResult): Promise<unknown> {
    if (this.failed !== undefined) return Promise.resolve(this.flushFailed(result));
    return new Promise((resolve) => this.register(end, resolve, result));
  }

  /** waitPut for a single message, its result given as numbers (see waiter-queue.ts). */
  waitPutOne(
    end: number,
    host: Buffer,
    wroteOffset: number,
    wroteBytes: number,
    queueOffset: number,
    storeTimestamp: number,
  ): Promise<PutMessageResult> {
    if (this.failed !== undefined)
      return Promise.resolve(
        this.flushFailed(
          new AppendResult(host, wroteOffset, wroteBytes, queueOffset, storeTimestamp, 1),
        ) as PutMessageResult,
      );
    return new Promise((resolve) => {
      const deadline = Date.now() + this.opts.syncFlushTimeout;
      this.waiters.pushOne(
        end,
        resolve,
        host,
        wroteOffset,
        wroteBytes,
        queueOffset,
        storeTimestamp,
        deadline,
      );
      this.armed();
    });
  }

  private register(end: number, resolve: (v: never) => void, result: AppendResult | undefined): void {
    this.waiters.push(end, resolve, result, Date.now() + this.opts.syncFlushTimeout);
    this.armed();
  }

  /**
   * The writer thread wrote everything below `end` and fdatasynced the file starting at
   * `fileFrom` (and any other it wrote in that round). Bytes in earlier files may still be dirty
   * when the last flush stopped before that file: the event loop flushes them now.
   */
  onThreadSynced(end: number, ts: number, fileFrom: number): void {
    if (this.failed !== undefined) return;
    if (this.flushedOffset < fileFrom) {
      void this.flushOnce().then(() => this.kick());
      return;
    }
    if (end > this.flushedOffset) this.threadSyncs++;
    this.flushedUpTo(end, ts);
    this.kick();
  }

  /** The writer thread's fdatasync failed: as fatal as a failed flush here. */
  onThreadSyncFailed(err: unknown): void {
    if (this.failed === undefined) this.fail(err);
  }

  /** A waiter was registered: make sure timeouts are checked and a flush is under way. */
  private armed(): void {
    this.commitLog.threadSyncWanted = true;
    if (!this.timeoutTimer) {
      this.timeoutTimer = setInterval(() => this.expire(), Math.min(100, this.opts.syncFlushTimeout));
      this.timeoutTimer.unref();
    }
    this.kick();
  }

  /** The CommitLog wrote more: start a group flush when someone waits for one. */
  onWritten(): void {
    if (this.waiters.size > 0) this.kick();
  }

  /** Bytes at or after `validEnd` were lost to a failed write: their waiters get the write error. */
  onWriteFailed(validEnd: number): void {
    this.waiters.failAfter(validEnd, this.writeFailed);
  }

  /** Flushes everything written so far (shutdown, checkpoint). */
  async flushAll(): Promise<void> {
    while (this.flushing) await new Promise((r) => setImmediate(r));
    await this.flushOnce();
  }

  private kick(): void {
    if (this.flushing || this.failed !== undefined) return;
    if (this.waiters.size === 0 || this.commitLog.writtenOffset <= this.flushedOffset) return;
    if (this.commitLog.threadWillSync) return;
    void this.flushOnce().then(() => {
      if (this.waiters.size > 0) this.kick();
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
      if (target > this.flushedOffset) this.loopFlushes++;
      this.flushedUpTo(target, ts);
    } catch (err) {
      this.fail(err);
    } finally {
      this.flushing = false;
    }
  }

  /** Every byte below `target` is durable (a flush here or the writer thread's). */
  private flushedUpTo(target: number, ts: number): void {
    if (target <= this.flushedOffset) return;
    this.flushedOffset = target;
    if (ts > this.flushedStoreTimestamp) this.flushedStoreTimestamp = ts;
    this.waiters.releaseUpTo(target, this.ok);
    this.stopTimeoutTimer();
    this.onFlushed?.();
  }

  private fail(err: unknown): void {
    this.failed = err;
    this.commitLog.fatal(`fdatasync failed: ${String(err)}`);
    this.log.fatal({ err }, 'CommitLog fdatasync failed; the store stops accepting writes');
    this.waiters.failAfter(-1, this.flushFailed);
    this.stopTimeoutTimer();
  }

  private stopTimeoutTimer(): void {
    if (this.waiters.size > 0) return;
    this.commitLog.threadSyncWanted = false;
    if (this.timeoutTimer) {
      clearInterval(this.timeoutTimer);
      this.timeoutTimer = undefined;
    }
  }

  private expire(): void {
    this.waiters.expire(Date.now(), this.timedOut);
    this.stopTimeoutTimer();
  }
}
