/**
 * The CommitLog: every message of every topic, appended in arrival order to segment files of
 * `mappedFileSizeCommitLog` bytes named by their 20-digit start offset. Entry layout: see
 * common/message/message-record.ts (+ record-crc.ts). A record never spans two segments: when
 * one does not fit together with 8 spare bytes, the segment is closed by an 8-byte filler
 * (TOTALSIZE = bytes left in the segment, MAGICCODE = BLANK_MAGIC_CODE) and the record starts the
 * next segment. Bytes after the last record are zeros.
 *
 * Write path (single owner, the event loop): `append*` picks the offset, assigns queue offsets and
 * encodes the records into a staging buffer with no await in between, so no lock is needed. A
 * drain loop writes staged bytes with positional writes, one write at a time, in offset order;
 * `writtenOffset` (all bytes below it are in the kernel) only moves forward after a write
 * completed. A failed write (ENOSPC, EIO) fails every put not yet written, zeroes whatever part
 * of the failed range reached the file, rolls the queue offsets back and resumes: stored data is
 * never corrupted. Readers only ever read below `writtenOffset`.
 */
import { BLANK_MAGIC_CODE } from '../../common/message/message-record.js';
import { transactionValue, MessageSysFlag } from '../../common/message/message-sysflag.js';
import { getProperty } from '../../common/message/message-properties.js';
import { MessageProperty } from '../../common/message/message-const.js';
import type { Logger } from '../../common/logger.js';
import { isNoSpace, type StoreFs } from '../io/store-fs.js';
import { MappedFileQueue } from '../mapped-file-queue.js';
import type { MappedFile } from '../mapped-file.js';
import type { PreparedMessage, RecordEncoder } from './record-encoder.js';
import type { DispatchRequest, TagsCodeFn } from './record-check.js';
import { PutMessageStatus } from '../store-types.js';

/** Spare bytes a segment always keeps for its end-of-file filler. */
export const END_FILE_MIN_BLANK_LENGTH = 8;

interface Chunk {
  file: MappedFile;
  buf: Buffer;
  /** Absolute offset of buf[0]. */
  start: number;
  used: number;
  written: number;
  /** Absolute offset one past the chunk's logical end (after a filler: the segment end). */
  end: number;
  sealed: boolean;
  lastStoreTs: number;
}

export interface AppendedRange {
  firstPhyOffset: number;
  firstQueueOffset: number;
  endOffset: number;
  phyOffsets: number[];
}

export type AppendOutcome = AppendedRange | { status: PutMessageStatus; remark: string };

export type WriteState = 'OK' | 'REPAIRING' | 'FATAL';

export class CommitLog {
  readonly files: MappedFileQueue;
  stagedOffset = 0;
  writtenOffset = 0;
  /** Store timestamp of the newest message below writtenOffset (checkpoint). */
  writtenStoreTimestamp = 0;
  state: WriteState = 'OK';
  stateReason = '';
  /** Dispatch requests of appended records, in offset order, consumed by the reput service. */
  readonly pendingDispatch: DispatchRequest[] = [];
  pendingDispatchHead = 0;
  /** Called after writtenOffset advanced. */
  onWritten: (() => void) | undefined;
  /** Gate before a write reaches [from, to) (used by the preallocator). */
  beforeWrite: ((file: MappedFile, from: number, to: number) => Promise<void> | undefined) | undefined;

  private readonly queueOffsets = new Map<string, number>();
  private chunks: Chunk[] = [];
  private cur: Chunk | undefined;
  private readonly pool: Buffer[] = [];
  private writing = false;
  private drainScheduled = false;
  private waitEnd: number[] = [];
  private waitFn: ((v: unknown) => void)[] = [];
  private waitVal: unknown[] = [];
  private waitFail: (() => unknown)[] = [];
  private waitHead = 0;

  constructor(
    fs: StoreFs,
    dir: string,
    readonly fileSize: number,
    private readonly encoder: RecordEncoder,
    private readonly tagsCode: TagsCodeFn,
    private readonly chunkSize: number,
    readonly maxWriteQueueBytes: number,
    private readonly log: Logger,
  ) {
    this.files = new MappedFileQueue(fs, dir, fileSize, log);
  }

  /** After recovery: the valid end of the log and the next queue offsets. */
  resetPositions(endOffset: number, queueOffsets: Map<string, number>): void {
    this.stagedOffset = endOffset;
    this.writtenOffset = endOffset;
    this.queueOffsets.clear();
    for (const [k, v] of queueOffsets) this.queueOffsets.set(k, v);
  }

  queueOffsetTable(): Map<string, number> {
    return this.queueOffsets;
  }

  removeQueueOffsets(topic: string): void {
    for (const key of [...this.queueOffsets.keys()])
      if (key.startsWith(topic + '-') && key.slice(topic.length + 1).match(/^\d+$/))
        this.queueOffsets.delete(key);
  }

  minOffset(): number {
    return this.files.minOffset();
  }

  /** Bytes appended but not yet handed to the kernel. */
  writeQueueBytes(): number {
    return this.stagedOffset - this.writtenOffset;
  }

  isBusy(): boolean {
    return this.writeQueueBytes() >= this.maxWriteQueueBytes;
  }

  /**
   * Appends messages (one, or a batch that gets consecutive queue offsets) synchronously.
   * The caller awaits `waitWritten(endOffset)` or the flusher for durability.
   */
  append(list: PreparedMessage[], storeTs: number): AppendOutcome {
    if (this.state !== 'OK') {
      return {
        status: PutMessageStatus.SERVICE_NOT_AVAILABLE,
        remark: `commitlog not writable: ${this.stateReason}`,
      };
    }
    if (this.isBusy()) {
      return {
        status: PutMessageStatus.OS_PAGECACHE_BUSY,
        remark: `write queue full (${this.writeQueueBytes()} bytes)`,
      };
    }
    let total = 0;
    for (const p of list) total += p.size;
    if (total + END_FILE_MIN_BLANK_LENGTH > this.fileSize) {
      return {
        status: PutMessageStatus.MESSAGE_ILLEGAL,
        remark: `batch of ${total} bytes exceeds a CommitLog file`,
      };
    }
    let file = this.currentFile();
    const remaining = file.fileEndOffset - this.stagedOffset;
    if (total + END_FILE_MIN_BLANK_LENGTH > remaining) {
      const c = this.chunkFor(file, END_FILE_MIN_BLANK_LENGTH);
      c.buf.writeInt32BE(remaining, c.used);
      c.buf.writeInt32BE(BLANK_MAGIC_CODE, c.used + 4);
      c.used += END_FILE_MIN_BLANK_LENGTH;
      this.stagedOffset += remaining;
      c.end = this.stagedOffset;
      c.sealed = true;
      file = this.currentFile();
    }
    const c = this.chunkFor(file, total);
    const first = list[0]!;
    const key = first.msg.topic + '-' + first.msg.queueId;
    let queueOffset = this.queueOffsets.get(key) ?? 0;
    const range: AppendedRange = {
      firstPhyOffset: this.stagedOffset,
      firstQueueOffset: queueOffset,
      endOffset: 0,
      phyOffsets: [],
    };
    for (const p of list) {
      const tranType = transactionValue(p.sysFlag);
      const counted =
        tranType !== MessageSysFlag.TRANSACTION_PREPARED_TYPE &&
        tranType !== MessageSysFlag.TRANSACTION_ROLLBACK_TYPE;
      const phy = this.stagedOffset;
      // Upstream stores queue offset 0 for prepared/rollback records: they never enter a queue.
      const qo = counted ? queueOffset : 0;
      const size = this.encoder.encode(c.buf, c.used, p, phy, qo, storeTs);
      c.used += size;
      this.stagedOffset += size;
      range.phyOffsets.push(phy);
      this.pendingDispatch.push({
        topic: p.msg.topic,
        queueId: p.msg.queueId,
        commitLogOffset: phy,
        msgSize: size,
        tagsCode: this.tagsCode(p.msg.topic, p.props, storeTs),
        storeTimestamp: storeTs,
        consumeQueueOffset: qo,
        keys: getProperty(p.props, MessageProperty.KEYS),
        uniqKey: getProperty(p.props, MessageProperty.UNIQ_CLIENT_MESSAGE_ID_KEYIDX),
        sysFlag: p.sysFlag,
      });
      if (counted) queueOffset++;
    }
    if (!counted(first)) range.firstQueueOffset = 0;
    this.queueOffsets.set(key, queueOffset);
    c.end = this.stagedOffset;
    c.lastStoreTs = storeTs;
    range.endOffset = this.stagedOffset;
    this.scheduleDrain();
    return range;
  }

  /**
   * Appends raw CommitLog bytes at exactly `startOffset` (a slave following its master). The
   * dispatcher parses them from the file since no dispatch requests exist for them.
   */
  appendRaw(startOffset: number, data: Buffer): boolean {
    if (this.state !== 'OK' || startOffset !== this.stagedOffset) return false;
    let pos = 0;
    while (pos < data.length) {
      const file = this.currentFile();
      const n = Math.min(data.length - pos, file.fileEndOffset - this.stagedOffset);
      const c = this.chunkFor(file, Math.min(n, this.chunkSize));
      const take = Math.min(n, c.buf.length - c.used);
      data.copy(c.buf, c.used, pos, pos + take);
      c.used += take;
      pos += take;
      this.stagedOffset += take;
      c.end = this.stagedOffset;
    }
    this.scheduleDrain();
    return true;
  }

  /**
   * Resolves with `value` once every byte below `endOffset` reached the kernel, with `fail()` if its
   * write failed. One promise per put and no closure chain: this is the hottest path of a put.
   */
  waitWritten<T>(endOffset: number, value: T, fail: () => T): Promise<T> {
    if (endOffset <= this.writtenOffset) return Promise.resolve(value);
    return new Promise<T>((resolve) => {
      this.waitEnd.push(endOffset);
      this.waitFn.push(resolve as (v: unknown) => void);
      this.waitVal.push(value);
      this.waitFail.push(fail);
    });
  }

  /** Resolves when nothing staged is left unwritten (shutdown). */
  async drained(): Promise<void> {
    while (this.writeQueueBytes() > 0 && this.state === 'OK')
      await this.waitWritten(this.stagedOffset, true, () => false);
  }

  /** Reads `size` bytes at `offset` (must lie in one segment, below writtenOffset). */
  async read(offset: number, size: number, into?: Buffer): Promise<Buffer | undefined> {
    if (offset < 0 || size <= 0 || offset + size > this.writtenOffset) return undefined;
    const file = this.files.findByOffset(offset);
    if (!file || offset + size > file.fileEndOffset) return undefined;
    const buf = into ?? Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      const n = await file.read(buf, got, size - got, offset - file.fileFromOffset + got);
      if (n <= 0) return undefined;
      got += n;
    }
    return buf;
  }

  /** Start of the segment after the one holding `offset`. */
  rollNextFile(offset: number): number {
    return offset + this.fileSize - (offset % this.fileSize);
  }

  private currentFile(): MappedFile {
    let file = this.files.last;
    if (!file || this.stagedOffset >= file.fileEndOffset) {
      const from = this.stagedOffset - (this.stagedOffset % this.fileSize);
      file = this.files.createFile(from);
      this.log.info({ file: file.path }, 'created CommitLog segment');
    }
    return file;
  }

  private chunkFor(file: MappedFile, need: number): Chunk {
    const c = this.cur;
    if (c && c.file === file && !c.sealed && c.used + need <= c.buf.length) return c;
    if (c) c.sealed = true;
    const buf =
      need > this.chunkSize
        ? Buffer.allocUnsafe(need)
        : (this.pool.pop() ?? Buffer.allocUnsafe(this.chunkSize));
    const n: Chunk = {
      file,
      buf,
      start: this.stagedOffset,
      used: 0,
      written: 0,
      end: this.stagedOffset,
      sealed: false,
      lastStoreTs: 0,
    };
    this.chunks.push(n);
    this.cur = n;
    return n;
  }

  private recycle(c: Chunk): void {
    if (c.buf.length === this.chunkSize && this.pool.length < 4) this.pool.push(c.buf);
  }

  private scheduleDrain(): void {
    if (this.drainScheduled || this.writing) return;
    this.drainScheduled = true;
    setImmediate(() => void this.drain());
  }

  private async drain(): Promise<void> {
    this.drainScheduled = false;
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.state === 'OK') {
        const c = this.chunks[0];
        if (!c) break;
        if (c.written === c.used) {
          if (!c.sealed) break;
          this.chunks.shift();
          if (this.cur === c) this.cur = undefined;
          this.recycle(c);
          if (c.end > this.writtenOffset) this.advance(c.end, c.lastStoreTs);
          continue;
        }
        const from = c.written;
        const to = c.used;
        const ts = c.lastStoreTs;
        const rel = c.start - c.file.fileFromOffset;
        const gate = this.beforeWrite?.(c.file, rel + from, rel + to);
        if (gate) await gate;
        await c.file.write(c.buf, from, to - from, rel + from);
        c.written = to;
        if (c.sealed && c.written === c.used) {
          this.chunks.shift();
          if (this.cur === c) this.cur = undefined;
          this.recycle(c);
          this.advance(c.end, ts);
        } else {
          this.advance(c.start + to, ts);
        }
      }
    } catch (err) {
      await this.onWriteError(err);
    } finally {
      this.writing = false;
    }
    if (this.chunks.length > 0 && this.chunks[0]!.written < this.chunks[0]!.used && this.state === 'OK') {
      this.scheduleDrain();
    }
  }

  private advance(offset: number, storeTs: number): void {
    this.writtenOffset = offset;
    if (storeTs > 0) this.writtenStoreTimestamp = storeTs;
    this.resolveWaiters(true, offset);
    this.onWritten?.();
  }

  private resolveWaiters(ok: boolean, upTo: number): void {
    let h = this.waitHead;
    const ends = this.waitEnd;
    const fns = this.waitFn;
    const vals = this.waitVal;
    const fails = this.waitFail;
    while (h < ends.length && (ends[h]! <= upTo || !ok)) {
      fns[h]!(ok ? vals[h] : fails[h]!());
      h++;
    }
    if (h === ends.length) {
      this.waitEnd = [];
      this.waitFn = [];
      this.waitVal = [];
      this.waitFail = [];
      this.waitHead = 0;
    } else if (h > 4096) {
      this.waitEnd = ends.slice(h);
      this.waitFn = fns.slice(h);
      this.waitVal = vals.slice(h);
      this.waitFail = fails.slice(h);
      this.waitHead = 0;
    } else {
      this.waitHead = h;
    }
  }

  /** A write failed: nothing at or after writtenOffset is stored; undo it and resume. */
  private async onWriteError(err: unknown): Promise<void> {
    const validEnd = this.writtenOffset;
    const noSpace = isNoSpace(err);
    this.state = 'REPAIRING';
    this.stateReason = noSpace ? 'disk full (write failed with ENOSPC)' : `write failed: ${String(err)}`;
    this.log.error(
      { err, validEnd },
      'CommitLog write failed; failing unwritten puts and repairing the tail',
    );
    this.resolveWaiters(false, validEnd);
    for (const c of this.chunks) this.recycle(c);
    this.chunks = [];
    this.cur = undefined;
    const pd = this.pendingDispatch;
    let i = pd.length - 1;
    for (; i >= this.pendingDispatchHead && pd[i]!.commitLogOffset >= validEnd; i--) {
      const r = pd[i]!;
      const t = transactionValue(r.sysFlag);
      if (t !== MessageSysFlag.TRANSACTION_PREPARED_TYPE && t !== MessageSysFlag.TRANSACTION_ROLLBACK_TYPE) {
        this.queueOffsets.set(r.topic + '-' + r.queueId, r.consumeQueueOffset);
      }
    }
    pd.length = i + 1;
    this.stagedOffset = validEnd;
    try {
      this.files.files = this.files.files.filter((f) => {
        if (f.openError === undefined) return true;
        void f.destroy();
        return false;
      });
      await this.files.truncateDirty(validEnd);
      this.state = 'OK';
      this.stateReason = '';
      this.log.warn({ validEnd }, 'CommitLog tail repaired; accepting writes again');
    } catch (repairErr) {
      this.state = 'FATAL';
      this.stateReason = `could not repair after a failed write: ${String(repairErr)}`;
      this.log.fatal({ err: repairErr }, 'CommitLog repair failed; the store no longer accepts writes');
    }
  }

  /** The last write error made this status (CREATE_MAPEDFILE_FAILED when a segment could not be created). */
  failureStatus(): PutMessageStatus {
    return this.stateReason.includes('ENOENT') || this.stateReason.includes('create')
      ? PutMessageStatus.CREATE_MAPEDFILE_FAILED
      : PutMessageStatus.SERVICE_NOT_AVAILABLE;
  }

  /** Stops accepting writes for good (an fdatasync failed: the page cache state is unknown). */
  fatal(reason: string): void {
    this.state = 'FATAL';
    this.stateReason = reason;
  }
}

function counted(p: PreparedMessage): boolean {
  const t = transactionValue(p.sysFlag);
  return t !== MessageSysFlag.TRANSACTION_PREPARED_TYPE && t !== MessageSysFlag.TRANSACTION_ROLLBACK_TYPE;
}
