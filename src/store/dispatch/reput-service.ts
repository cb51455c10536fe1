/**
 * The dispatcher (upstream ReputMessageService): follows the CommitLog from `reputFromOffset` and,
 * for every record below the CommitLog's writtenOffset, adds its ConsumeQueue unit and index keys
 * and tells the dispatch listener. Since it never passes writtenOffset, no queue ever points at
 * bytes that are not in the file.
 *
 * Two sources, same result: records appended by this process come with their entry in the
 * CommitLog's dispatch ring (filled at append time, so nothing is parsed twice and no object is
 * kept per message); anything else (recovery of the tail after a crash, bytes appended by
 * replication) is read back from the files and checked record by record.
 * PREPARED and ROLLBACK transaction records get no ConsumeQueue unit.
 */
import type { Logger } from '../../common/logger.js';
import { MessageSysFlag, transactionValue } from '../../common/message/message-sysflag.js';
import type { CommitLog } from '../commitlog/commitlog.js';
import { checkRecord, type CheckOptions, type DispatchRequest } from '../commitlog/record-check.js';
import type { ConsumeQueueStore } from '../consume-queue/consume-queue-store.js';
import type { IndexService } from '../index/index-service.js';
import type { DispatchListener } from '../store-types.js';
import type { DispatchKeys } from './dispatch-keys.js';

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
  private readonly hashes: number[] = [];
  private readonly collect = (h: number): void => {
    this.hashes.push(h);
  };

  constructor(
    private readonly commitLog: CommitLog,
    private readonly cqs: ConsumeQueueStore,
    private readonly index: IndexService | undefined,
    private readonly keys: DispatchKeys,
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
    const d = cl.dispatch;
    const written = cl.writtenOffset;
    while (d.head < d.tail && d.phy[d.head & d.mask]! < this.reputFromOffset) d.shift();
    while (d.head < d.tail) {
      const i = d.head & d.mask;
      const phy = d.phy[i]!;
      const end = phy + d.size[i]!;
      if (end > written) break;
      if (phy !== this.reputFromOffset) {
        if (phy !== cl.rollNextFile(this.reputFromOffset)) break;
        this.reputFromOffset = phy;
      }
      this.dispatchEntry(i);
      this.reputFromOffset = end;
      d.shift();
    }
    if (this.reputFromOffset < written && this.stuckAt === undefined) {
      if (d.head === d.tail || d.phy[d.head & d.mask]! > this.reputFromOffset) this.startSlow();
    }
  }

  private dispatchEntry(i: number): void {
    const d = this.commitLog.dispatch;
    const topic = d.topic[i]!;
    const queueId = d.queueId[i]!;
    const phy = d.phy[i]!;
    const sysFlag = d.sysFlag[i]!;
    const storeTs = d.storeTs[i]!;
    const t = transactionValue(sysFlag);
    if (t === MessageSysFlag.TRANSACTION_NOT_TYPE || t === MessageSysFlag.TRANSACTION_COMMIT_TYPE) {
      const tagsCode = d.tagsCode[i]!;
      const cqOffset = d.cqOffset[i]!;
      if (this.cqs.put(topic, queueId, phy, d.size[i]!, tagsCode, cqOffset))
        this.notify(topic, queueId, cqOffset, tagsCode, storeTs);
    }
    const n = d.keyCount[i]!;
    if (this.index && n > 0) this.index.addRecord(phy, storeTs, d.keys, d.keyStart[i]!, n, d.keyMask);
    this.lastDispatchedTimestamp = storeTs;
  }

  private notify(topic: string, queueId: number, cqOffset: number, tagsCode: number, storeTs: number): void {
    for (const l of this.listeners) {
      try {
        l(topic, queueId, cqOffset, tagsCode, storeTs);
      } catch (err) {
        this.log.error({ err }, 'dispatch listener threw');
      }
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
    const d = cl.dispatch;
    let buf = Buffer.allocUnsafe(READ_CHUNK);
    while (!this.stopped) {
      const from = this.reputFromOffset;
      const headPhy = d.head < d.tail ? d.phy[d.head & d.mask]! : -1;
      const limit = headPhy >= from ? headPhy : cl.writtenOffset;
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

  /** Dispatches a record read back from the files (recovery, replication). */
  dispatch(r: DispatchRequest): void {
    const t = transactionValue(r.sysFlag);
    if (t === MessageSysFlag.TRANSACTION_NOT_TYPE || t === MessageSysFlag.TRANSACTION_COMMIT_TYPE) {
      if (this.cqs.put(r.topic, r.queueId, r.commitLogOffset, r.msgSize, r.tagsCode, r.consumeQueueOffset))
        this.notify(r.topic, r.queueId, r.consumeQueueOffset, r.tagsCode, r.storeTimestamp);
    }
    if (this.index && t !== MessageSysFlag.TRANSACTION_ROLLBACK_TYPE && r.properties) {
      this.hashes.length = 0;
      this.keys.keyHashes(r.topic, r.properties, this.collect);
      if (this.hashes.length > 0)
        this.index.addRecord(r.commitLogOffset, r.storeTimestamp, this.hashes, 0, this.hashes.length, -1);
    }
    this.lastDispatchedTimestamp = r.storeTimestamp;
  }
}
