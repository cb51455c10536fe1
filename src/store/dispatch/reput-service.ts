/**
 * The dispatcher (upstream ReputMessageService): follows the CommitLog from `reputFromOffset` and,
 * for every record below the CommitLog's writtenOffset, adds its ConsumeQueue unit and index keys
 * and tells the dispatch listener. Since it never passes writtenOffset, no queue ever points at
 * bytes that are not in the file.
 *
 * Two sources, same result: records appended by this process come with their DispatchRequest
 * (built at append time, so nothing is parsed twice); anything else (recovery of the tail after a
 * crash, bytes appended by replication) is read back from the files and checked record by record.
 * PREPARED and ROLLBACK transaction records get no ConsumeQueue unit.
 */
import type { Logger } from '../../common/logger.js';
import { MessageSysFlag, transactionValue } from '../../common/message/message-sysflag.js';
import type { CommitLog } from '../commitlog/commitlog.js';
import { checkRecord, type CheckOptions, type DispatchRequest } from '../commitlog/record-check.js';
import type { ConsumeQueueStore } from '../consume-queue/consume-queue-store.js';
import type { IndexService } from '../index/index-service.js';
import type { DispatchListener } from '../store-types.js';

const READ_CHUNK = 4 * 1024 * 1024;

export class ReputService {
  reputFromOffset = 0;
  /** Store timestamp of the last dispatched record (checkpoint logics timestamp). */
  lastDispatchedTimestamp = 0;
  listeners: DispatchListener[] = [];
  private slow: Promise<void> | undefined;
  private stopped = false;
  /** Set when the file path met bytes it could not trust; dispatch stops there. */
  stuckAt: { offset: number; reason: string } | undefined;

  constructor(
    private readonly commitLog: CommitLog,
    private readonly cqs: ConsumeQueueStore,
    private readonly index: IndexService | undefined,
    private readonly checkOpts: CheckOptions,
    private readonly log: Logger,
  ) {}

  behindBytes(): number {
    return Math.max(0, this.commitLog.writtenOffset - this.reputFromOffset);
  }

  stop(): void {
    this.stopped = true;
  }

  /** Runs after every CommitLog write; dispatches synchronously what it can. */
  pump(): void {
    if (this.slow || this.stopped) return;
    const cl = this.commitLog;
    const pd = cl.pendingDispatch;
    let h = cl.pendingDispatchHead;
    const written = cl.writtenOffset;
    while (h < pd.length && pd[h]!.commitLogOffset < this.reputFromOffset) h++;
    while (h < pd.length) {
      const r = pd[h]!;
      const end = r.commitLogOffset + r.msgSize;
      if (end > written) break;
      if (r.commitLogOffset !== this.reputFromOffset) {
        if (r.commitLogOffset !== cl.rollNextFile(this.reputFromOffset)) break;
        this.reputFromOffset = r.commitLogOffset;
      }
      this.dispatch(r);
      this.reputFromOffset = end;
      h++;
    }
    if (h === pd.length) {
      pd.length = 0;
      cl.pendingDispatchHead = 0;
    } else if (h > 8192) {
      pd.splice(0, h);
      cl.pendingDispatchHead = 0;
    } else {
      cl.pendingDispatchHead = h;
    }
    if (this.reputFromOffset < written && this.stuckAt === undefined) {
      const head = pd[cl.pendingDispatchHead];
      if (!head || head.commitLogOffset > this.reputFromOffset) this.startSlow();
    }
  }

  /** Resolves once everything written is dispatched (or dispatch is stuck). */
  async caughtUp(): Promise<void> {
    for (;;) {
      if (this.slow) await this.slow;
      this.pump();
      if (this.slow) continue;
      if (this.reputFromOffset >= this.commitLog.writtenOffset || this.stuckAt || this.stopped) return;
      await new Promise((r) => setImmediate(r));
    }
  }

  private startSlow(): void {
    this.slow = this.fromFiles()
      .catch((err: unknown) => this.log.error({ err }, 'dispatch from files failed'))
      .finally(() => {
        this.slow = undefined;
        if (!this.stopped) setImmediate(() => this.pump());
      });
  }

  private async fromFiles(): Promise<void> {
    const cl = this.commitLog;
    let buf = Buffer.allocUnsafe(READ_CHUNK);
    while (!this.stopped) {
      const from = this.reputFromOffset;
      const head = cl.pendingDispatch[cl.pendingDispatchHead];
      const limit = head && head.commitLogOffset >= from ? head.commitLogOffset : cl.writtenOffset;
      if (from >= limit) return;
      const file = cl.files.findByOffset(from);
      if (!file) {
        this.stuckAt = { offset: from, reason: 'no CommitLog file holds this offset' };
        this.log.error(this.stuckAt, 'dispatch stopped');
        return;
      }
      const want = Math.min(limit, file.fileEndOffset) - from;
      if (want > buf.length) buf = Buffer.allocUnsafe(Math.min(want, Math.max(buf.length, READ_CHUNK)));
      const len = Math.min(want, buf.length);
      const n = await file.read(buf, 0, len, from - file.fileFromOffset);
      let pos = 0;
      while (pos < n) {
        const at = from + pos;
        const res = checkRecord(buf, pos, n - pos, at, this.checkOpts);
        if (res.kind === 'message') {
          this.dispatch(res.dispatch);
          pos += res.size;
          this.reputFromOffset = at + res.size;
        } else if (res.kind === 'blank') {
          this.reputFromOffset = cl.rollNextFile(at);
          break;
        } else if (res.kind === 'need') {
          if (pos === 0) buf = Buffer.allocUnsafe(res.size);
          break;
        } else {
          this.stuckAt = { offset: at, reason: res.kind === 'bad' ? res.reason : res.kind };
          this.log.error(
            { file: file.path, offset: at, reason: this.stuckAt.reason },
            'dispatch met a bad record; stopped',
          );
          return;
        }
      }
      if (n <= 0) return;
    }
  }

  dispatch(r: DispatchRequest): void {
    const t = transactionValue(r.sysFlag);
    if (t === MessageSysFlag.TRANSACTION_NOT_TYPE || t === MessageSysFlag.TRANSACTION_COMMIT_TYPE) {
      if (this.cqs.put(r.topic, r.queueId, r.commitLogOffset, r.msgSize, r.tagsCode, r.consumeQueueOffset)) {
        for (const l of this.listeners) {
          try {
            l(r.topic, r.queueId, r.consumeQueueOffset, r.tagsCode, r.storeTimestamp);
          } catch (err) {
            this.log.error({ err }, 'dispatch listener threw');
          }
        }
      }
    }
    this.index?.buildIndex(r);
    this.lastDispatchedTimestamp = r.storeTimestamp;
  }
}
