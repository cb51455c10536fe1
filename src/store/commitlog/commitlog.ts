/**
 * The CommitLog: every message of every topic, appended in arrival order to segment files of
 * `mappedFileSizeCommitLog` bytes named by their 20-digit start offset. Entry layout: see
 * common/message/message-record.ts (+ record-crc.ts). A record never spans two segments: when
 * one does not fit together with 8 spare bytes, the segment is closed by an 8-byte filler
 * (TOTALSIZE = bytes left in the segment, MAGICCODE = BLANK_MAGIC_CODE) and the record starts the
 * next segment. Bytes after the last record are zeros.
 *
 * Write path (single owner, the event loop): `append*` picks the offset, assigns queue offsets and
 * encodes the records into a staging chunk (staging.ts) with no await in between, so no lock is
 * needed; what the dispatcher will need goes into the dispatch ring (no object per message). The
 * write loop (write-loop.ts) seals the records (CRCs) and writes them with positional writes, one
 * write at a time, in offset order; `writtenOffset` (all bytes below it are in the kernel, always a
 * record boundary) only moves forward after a write completed, and only then are the puts waiting
 * for it resolved. A failed write (ENOSPC, EIO) fails every put not yet written, zeroes whatever
 * part of the failed range reached the file, rolls the queue offsets back and resumes: stored data
 * is never corrupted. Readers only ever read below `writtenOffset`.
 */
import { BLANK_MAGIC_CODE } from '../../common/message/message-record.js';
import { transactionValue, MessageSysFlag } from '../../common/message/message-sysflag.js';
import type { Logger } from '../../common/logger.js';
import { isNoSpace, nodeStoreFs, type StoreFs } from '../io/store-fs.js';
import { MappedFileQueue } from '../mapped-file-queue.js';
import type { MappedFile } from '../mapped-file.js';
import type { PreparedMessage, RecordEncoder } from './record-encoder.js';
import { DispatchRing } from '../dispatch/dispatch-ring.js';
import type { DispatchKeys } from '../dispatch/dispatch-keys.js';
import { BLOCK, Staging, type Chunk } from './staging.js';
import { WriteLoop } from './write-loop.js';
import type { ThreadSyncHooks } from './writer-thread.js';
import { WaiterQueue } from './waiter-queue.js';
import type { AppendResult } from '../append-result.js';
import { PutMessageStatus } from '../store-types.js';

/** Spare bytes a segment always keeps for its end-of-file filler. */
export const END_FILE_MIN_BLANK_LENGTH = 8;
/** Staging slots beyond what maxWriteQueueBytes needs: written chunks kept for readers, the open one. */
const SPARE_SLOTS = 12;

export interface AppendedRange {
  firstPhyOffset: number;
  firstQueueOffset: number;
  endOffset: number;
  phyOffsets: number[];
}

export type AppendError = { status: PutMessageStatus; remark: string };
export type AppendOutcome = AppendedRange | AppendError;

export type WriteState = 'OK' | 'REPAIRING' | 'FATAL';

function counted(sysFlag: number): boolean {
  const t = transactionValue(sysFlag);
  return t !== MessageSysFlag.TRANSACTION_PREPARED_TYPE && t !== MessageSysFlag.TRANSACTION_ROLLBACK_TYPE;
}

export class CommitLog {
  readonly files: MappedFileQueue;
  stagedOffset = 0;
  writtenOffset = 0;
  /** Store timestamp of the newest message below writtenOffset (checkpoint). */
  writtenStoreTimestamp = 0;
  state: WriteState = 'OK';
  stateReason = '';
  /** What the reput service needs of every appended record, in offset order. */
  readonly dispatch = new DispatchRing();
  /** Puts (and internal waits) resolved once writtenOffset reaches their end. */
  readonly waiters = new WaiterQueue();
  /** Queue offset assigned to the last message appended by appendOne. */
  lastQueueOffset = 0;
  /** Called after writtenOffset advanced. */
  onWritten: (() => void) | undefined;
  /** Called when staged bytes at or after the offset were lost to a failed write. */
  onWriteFailed: ((validEnd: number) => void) | undefined;
  /** Told of the writer thread's fdatasyncs (the flush service). */
  threadSync: ThreadSyncHooks | undefined;
  /** Gate before a write reaches [from, to) (used by the preallocator). */
  beforeWrite: ((file: MappedFile, from: number, to: number) => Promise<void> | undefined) | undefined;

  /** Next queue offset per topic, indexed by queue id (no per-put key string). */
  private readonly queueOffsets = new Map<string, number[]>();
  private readonly staging: Staging;
  private readonly loop: WriteLoop;
  private readonly pushKey = (hash: number): void => this.dispatch.pushKey(hash);
  private readonly okResult = (r: AppendResult | undefined): unknown =>
    r ? { status: PutMessageStatus.PUT_OK, appendResult: r } : true;
  private readonly failResult = (r: AppendResult | undefined): unknown =>
    r ? { status: this.failureStatus(), remark: `write failed: ${this.stateReason}` } : false;

  constructor(
    fs: StoreFs,
    dir: string,
    readonly fileSize: number,
    private readonly encoder: RecordEncoder,
    private readonly keys: DispatchKeys,
    private readonly indexKeys: boolean,
    chunkSize: number,
    readonly maxWriteQueueBytes: number,
    directIo: boolean,
    appendCrc: boolean,
    sealThread: boolean,
    private readonly log: Logger,
  ) {
    this.files = new MappedFileQueue(fs, dir, fileSize, log);
    const slots = Math.ceil(maxWriteQueueBytes / chunkSize) + SPARE_SLOTS;
    // Direct writes cover whole 4 KiB blocks, so a segment must be made of whole blocks.
    this.staging = new Staging(chunkSize, slots, directIo && fileSize % BLOCK === 0);
    // The writer thread writes with node:fs itself; an injected StoreFs (fault tests) is only
    // honoured on the event loop.
    this.loop = new WriteLoop(this, this.staging, appendCrc, sealThread, fs === nodeStoreFs, log);
  }

  /** Whether the log takes appends (not failed, not repairing). */
  get writable(): boolean {
    return this.state === 'OK';
  }

  /** Starts the writer thread ahead of the first write (the store is running). */
  startWriter(): void {
    this.loop.startThread();
  }

  get writerThreadStarted(): boolean {
    return this.loop.threadStarted;
  }

  /** Jobs for the writer thread whose records the event loop sealed (it had time to spare). */
  get jobsSealedOnLoop(): number {
    return this.loop.sealedHere;
  }

  /** Whether an event loop with time to spare may seal jobs for the writer thread (not SYNC_FLUSH). */
  set sealOnIdleLoop(on: boolean) {
    this.loop.sealOnIdleLoop = on;
  }

  /** Durability waiters exist: the writer thread fdatasyncs after each round of writes. */
  set threadSyncWanted(on: boolean) {
    this.loop.threadSyncWanted = on;
  }

  /** An fdatasync by the writer thread is coming for what is written so far. */
  get threadWillSync(): boolean {
    return this.loop.threadWillSync;
  }

  /** Stops the sealing worker and gives the staging memory back (shutdown, after drained()). */
  async stopWriter(): Promise<void> {
    await this.loop.stop();
    this.staging.release();
  }

  /** Whether appends are written with O_DIRECT where the file system allows it. */
  get directIo(): boolean {
    return this.staging.aligned;
  }

  /**
   * Before the first append after a restart or a repair (direct I/O only): keeps the bytes of the
   * block holding the log's end, which the first direct write rewrites whole.
   */
  async loadHeadBlock(): Promise<void> {
    if (!this.staging.aligned) return;
    const end = this.writtenOffset;
    const head = end % BLOCK;
    const bytes = Buffer.alloc(head);
    if (head > 0) {
      const file = this.files.findByOffset(end - head);
      let got = 0;
      while (file && got < head) {
        const n = await file.read(bytes, got, head - got, end - head - file.fileFromOffset + got);
        if (n <= 0) break;
        got += n;
      }
    }
    this.staging.headBlock = { start: end - head, bytes };
  }

  /** After recovery: the valid end of the log and the next queue offsets ("topic-queueId" keys). */
  resetPositions(endOffset: number, queueOffsets: Map<string, number>): void {
    this.stagedOffset = endOffset;
    this.writtenOffset = endOffset;
    this.queueOffsets.clear();
    for (const [k, v] of queueOffsets) {
      const dash = k.lastIndexOf('-');
      this.setQueueOffset(k.slice(0, dash), Number(k.slice(dash + 1)), v);
    }
  }

  /** Next queue offsets as "topic-queueId" -> offset (tools, tests). */
  queueOffsetTable(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [topic, arr] of this.queueOffsets)
      arr.forEach((v, q) => {
        if (v !== undefined) out.set(`${topic}-${q}`, v);
      });
    return out;
  }

  private setQueueOffset(topic: string, queueId: number, v: number): void {
    let arr = this.queueOffsets.get(topic);
    if (!arr) {
      arr = [];
      this.queueOffsets.set(topic, arr);
    }
    arr[queueId] = v;
  }

  removeQueueOffsets(topic: string): void {
    this.queueOffsets.delete(topic);
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

  private refuse(total: number): AppendError | undefined {
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
    if (total + END_FILE_MIN_BLANK_LENGTH > this.fileSize) {
      return {
        status: PutMessageStatus.MESSAGE_ILLEGAL,
        remark: `batch of ${total} bytes exceeds a CommitLog file`,
      };
    }
    return undefined;
  }

  /** The chunk to encode `total` bytes into, closing the segment with a filler when they do not fit. */
  private reserve(total: number): Chunk {
    let file = this.currentFile();
    const remaining = file.fileEndOffset - this.stagedOffset;
    if (total + END_FILE_MIN_BLANK_LENGTH > remaining) {
      const c = this.staging.chunkFor(file, END_FILE_MIN_BLANK_LENGTH, this.stagedOffset);
      c.buf.writeInt32BE(remaining, c.used);
      c.buf.writeInt32BE(BLANK_MAGIC_CODE, c.used + 4);
      c.used += END_FILE_MIN_BLANK_LENGTH;
      this.stagedOffset += remaining;
      c.end = this.stagedOffset;
      c.sealed = true;
      file = this.currentFile();
    }
    return this.staging.chunkFor(file, total, this.stagedOffset);
  }

  /** Encodes one record and queues its dispatch entry; returns its physical offset. */
  private encodeOne(c: Chunk, p: PreparedMessage, queueOffset: number, storeTs: number): number {
    const phy = this.stagedOffset;
    const m = p.msg;
    const size = this.encoder.encode(c.buf, c.used, p, phy, queueOffset, storeTs, false);
    c.used += size;
    this.stagedOffset += size;
    this.dispatch.push(
      m.topic,
      m.queueId,
      phy,
      size,
      this.keys.tagsCode(m.topic, p.props, storeTs),
      storeTs,
      queueOffset,
      p.sysFlag,
    );
    if (this.indexKeys && transactionValue(p.sysFlag) !== MessageSysFlag.TRANSACTION_ROLLBACK_TYPE)
      this.keys.keyHashes(m.topic, p.props, this.pushKey);
    return phy;
  }

  /**
   * Appends one message synchronously: its physical offset, with its queue offset in
   * lastQueueOffset, or why not. The caller waits on `waiters` (or the flusher) for durability.
   */
  appendOne(p: PreparedMessage, storeTs: number): number | AppendError {
    const refused = this.refuse(p.size);
    if (refused) return refused;
    const c = this.reserve(p.size);
    const m = p.msg;
    let arr = this.queueOffsets.get(m.topic);
    if (!arr) {
      arr = [];
      this.queueOffsets.set(m.topic, arr);
    }
    const isCounted = counted(p.sysFlag);
    const next = arr[m.queueId] ?? 0;
    // Upstream stores queue offset 0 for prepared/rollback records: they never enter a queue.
    const qo = isCounted ? next : 0;
    const phy = this.encodeOne(c, p, qo, storeTs);
    if (isCounted) arr[m.queueId] = next + 1;
    this.lastQueueOffset = qo;
    c.end = this.stagedOffset;
    c.lastStoreTs = storeTs;
    this.loop.schedule();
    return phy;
  }

  /** Appends a batch (consecutive queue offsets of one queue) synchronously. */
  append(list: PreparedMessage[], storeTs: number): AppendOutcome {
    let total = 0;
    for (const p of list) total += p.size;
    const refused = this.refuse(total);
    if (refused) return refused;
    const c = this.reserve(total);
    const first = list[0]!;
    let queueOffset = this.queueOffsets.get(first.msg.topic)?.[first.msg.queueId] ?? 0;
    const range: AppendedRange = {
      firstPhyOffset: this.stagedOffset,
      firstQueueOffset: counted(first.sysFlag) ? queueOffset : 0,
      endOffset: 0,
      phyOffsets: [],
    };
    for (const p of list) {
      const isCounted = counted(p.sysFlag);
      range.phyOffsets.push(this.encodeOne(c, p, isCounted ? queueOffset : 0, storeTs));
      if (isCounted) queueOffset++;
    }
    this.setQueueOffset(first.msg.topic, first.msg.queueId, queueOffset);
    c.end = this.stagedOffset;
    c.lastStoreTs = storeTs;
    range.endOffset = this.stagedOffset;
    this.loop.schedule();
    return range;
  }

  /**
   * Appends raw CommitLog bytes at exactly `startOffset` (a slave following its master). The
   * dispatcher parses them from the file since no dispatch entries exist for them.
   */
  appendRaw(startOffset: number, data: Buffer): boolean {
    if (this.state !== 'OK' || startOffset !== this.stagedOffset) return false;
    let pos = 0;
    while (pos < data.length) {
      const file = this.currentFile();
      const n = Math.min(data.length - pos, file.fileEndOffset - this.stagedOffset);
      const c = this.staging.chunkFor(file, Math.min(n, this.staging.chunkSize), this.stagedOffset, true);
      const take = Math.min(n, c.buf.length - c.used);
      data.copy(c.buf, c.used, pos, pos + take);
      c.used += take;
      c.crcTo = c.used;
      pos += take;
      this.stagedOffset += take;
      c.end = this.stagedOffset;
    }
    this.loop.schedule();
    return true;
  }

  /** Resolves with true once every byte below `endOffset` reached the kernel, false if its write failed. */
  waitWritten(endOffset: number): Promise<boolean> {
    if (endOffset <= this.writtenOffset) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => this.waiters.push(endOffset, resolve, undefined));
  }

  /** Resolves when nothing staged is left unwritten (shutdown). */
  async drained(): Promise<void> {
    while (this.writeQueueBytes() > 0 && this.state === 'OK') await this.waitWritten(this.stagedOffset);
  }

  /**
   * Copies [offset, offset + size) into into[at] when the staging memory still holds all of it below
   * writtenOffset (records this process sealed and wrote: no device read, no CRC to check again).
   */
  copyRecent(offset: number, size: number, into: Buffer, at: number): boolean {
    return this.staging.copyOut(offset, size, this.writtenOffset, into, at);
  }

  /**
   * Reads `size` bytes at `offset` (must lie in one segment, below writtenOffset): a copy from the
   * staging memory when it still holds them, else from the file.
   */
  async read(offset: number, size: number, into?: Buffer): Promise<Buffer | undefined> {
    if (offset < 0 || size <= 0 || offset + size > this.writtenOffset) return undefined;
    const buf = into ?? Buffer.allocUnsafe(size);
    if (this.staging.copyOut(offset, size, this.writtenOffset, buf)) return buf;
    const file = this.files.findByOffset(offset);
    if (!file || offset + size > file.fileEndOffset) return undefined;
    let got = 0;
    while (got < size) {
      const n = await file.read(buf, got, size - got, offset - file.fileFromOffset + got);
      if (n <= 0) return undefined;
      got += n;
    }
    return buf;
  }

  /**
   * Reads [offset, offset+size) into `into`, which must be page-aligned and hold size + 8 KiB;
   * returns where the bytes start in it. With direct I/O the file is read with O_DIRECT from the
   * block boundary before `offset` (the page cache is not filled: on a VM that costs more than the
   * read, and nothing written with O_DIRECT is in it anyway); otherwise as read() does. -1 when
   * the bytes cannot be read. `anywhere`: also past writtenOffset (recovery, before it is known).
   */
  async readAligned(offset: number, size: number, into: Buffer, anywhere = false): Promise<number> {
    if (offset < 0 || size <= 0 || (!anywhere && offset + size > this.writtenOffset)) return -1;
    if (this.staging.copyOut(offset, size, this.writtenOffset, into)) return 0;
    const file = this.files.findByOffset(offset);
    if (!file || offset + size > file.fileEndOffset) return -1;
    const rel = offset - file.fileFromOffset;
    if (!this.staging.aligned || !(await file.openDirect())) {
      let got = 0;
      while (got < size) {
        const n = await file.read(into, got, size - got, rel + got);
        if (n <= 0) return -1;
        got += n;
      }
      return 0;
    }
    const a = rel - (rel % BLOCK);
    const b = Math.min(file.fileSize, Math.ceil((rel + size) / BLOCK) * BLOCK);
    let got = 0;
    while (got < b - a) {
      const n = await file.readDirect(into, got, b - a - got, a + got);
      if (n <= 0) break;
      got += n;
    }
    return got >= rel + size - a ? rel - a : -1;
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

  /** Called by the write loop: every byte below `offset` (a record boundary) is in the kernel. */
  advance(offset: number, storeTs: number): void {
    this.writtenOffset = offset;
    if (storeTs > 0) this.writtenStoreTimestamp = storeTs;
    this.waiters.releaseUpTo(offset, this.okResult);
    this.onWritten?.();
  }

  /** A write failed: nothing at or after writtenOffset is stored; undo it and resume. */
  async onWriteError(err: unknown): Promise<void> {
    const validEnd = this.writtenOffset;
    const noSpace = isNoSpace(err);
    this.state = 'REPAIRING';
    this.stateReason = noSpace ? 'disk full (write failed with ENOSPC)' : `write failed: ${String(err)}`;
    this.log.error(
      { err, validEnd },
      'CommitLog write failed; failing unwritten puts and repairing the tail',
    );
    this.waiters.failAfter(validEnd, this.failResult);
    this.onWriteFailed?.(validEnd);
    this.staging.dropFrom(validEnd);
    this.staging.headBlock = undefined;
    const d = this.dispatch;
    while (d.tail > d.head && d.phy[(d.tail - 1) & d.mask]! >= validEnd) {
      const i = (d.tail - 1) & d.mask;
      if (counted(d.sysFlag[i]!)) this.setQueueOffset(d.topic[i]!, d.queueId[i]!, d.cqOffset[i]!);
      d.pop();
    }
    this.stagedOffset = validEnd;
    try {
      this.files.files = this.files.files.filter((f) => {
        if (f.openError === undefined) return true;
        void f.destroy();
        return false;
      });
      await this.files.truncateDirty(validEnd);
      await this.loadHeadBlock();
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
