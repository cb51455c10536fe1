/**
 * One ConsumeQueue: the index of one (topic, queueId) into the CommitLog.
 * Path `consumequeue/<topic>/<queueId>/<20-digit name>`; files of mappedFileSizeConsumeQueue bytes,
 * named by the byte offset of their first unit within the queue (logical offset x 20).
 *
 *   unit (20 bytes, big-endian)
 *     0   8  commitLogOffset   physical offset of the record
 *     8   4  size              record length
 *    12   8  tagsCode          String.hashCode(TAGS); delivery time for SCHEDULE_TOPIC_XXXX
 *
 * A queue whose first file starts mid-file is padded with pre-blank units (0, 0x7FFFFFFF, 0).
 * Only the dispatcher appends (synchronously, into an in-memory tail), a write pass hands the tail
 * to the files; reads see the tail too, so a dispatched unit is readable at once. Recovery cuts the
 * queue at the first unit at or past a CommitLog offset and lets the dispatcher re-add the rest.
 */
import { join } from 'node:path';
import { readInt64, writeInt64 } from '../../common/int64.js';
import type { Logger } from '../../common/logger.js';
import type { StoreFs } from '../io/store-fs.js';
import { MappedFileQueue } from '../mapped-file-queue.js';
import { CQ_STORE_UNIT_SIZE } from '../message-store-config.js';

export { CQ_STORE_UNIT_SIZE };
const BLANK_SIZE = 0x7fffffff;
/** Units read from a file at once (the cache of the queue's last read). */
const READ_BLOCK = 64 * 1024 - ((64 * 1024) % CQ_STORE_UNIT_SIZE);

export class ConsumeQueue {
  readonly files: MappedFileQueue;
  /** Bytes below this are dispatched (in files or in the tail). */
  maxLogicBytes = 0;
  /** Bytes below this are below the CommitLog's minimum (deleted) or before the first file. */
  minLogicBytes = 0;
  /** Bytes below this were handed to the kernel. */
  writtenBytes = 0;
  /** CommitLog offset one past the last dispatched unit's record. */
  maxPhysicOffset = -1;
  private tail = Buffer.allocUnsafe(2000);
  private tailStart = 0;
  private tailLen = 0;
  private writing: Promise<void> | undefined;
  private cache: { start: number; buf: Buffer } | undefined;

  constructor(
    private readonly fs: StoreFs,
    rootDir: string,
    readonly topic: string,
    readonly queueId: number,
    readonly fileSize: number,
    private readonly log: Logger,
  ) {
    this.files = new MappedFileQueue(fs, join(rootDir, topic, String(queueId)), fileSize, log);
  }

  get minOffset(): number {
    return Math.floor(this.minLogicBytes / CQ_STORE_UNIT_SIZE);
  }

  get maxOffset(): number {
    return this.maxLogicBytes / CQ_STORE_UNIT_SIZE;
  }

  get dirty(): boolean {
    return this.writtenBytes < this.maxLogicBytes;
  }

  /** Loads the files and finds the end of the units (a zero size marks the end). */
  async load(): Promise<void> {
    await this.files.load();
    const first = this.files.first;
    const last = this.files.last;
    if (!first || !last) return;
    const unitsInFile = this.fileSize / CQ_STORE_UNIT_SIZE;
    const unit = Buffer.allocUnsafe(CQ_STORE_UNIT_SIZE);
    const sizeAt = (i: number): number => {
      last.readSync(unit, 0, CQ_STORE_UNIT_SIZE, i * CQ_STORE_UNIT_SIZE);
      return unit.readInt32BE(8);
    };
    // Units are written in order, so the first zero-size unit of the last file is the end.
    let lo = 0;
    let hi = unitsInFile;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sizeAt(mid) === 0) hi = mid;
      else lo = mid + 1;
    }
    let end = last.fileFromOffset + lo * CQ_STORE_UNIT_SIZE;
    if (lo === 0 && this.files.files.length > 1) {
      // An empty last file (created just before a crash): the previous file is full.
      end = last.fileFromOffset;
    }
    for (const f of this.files.files)
      f.wrotePosition = f.flushedPosition = Math.min(this.fileSize, Math.max(0, end - f.fileFromOffset));
    this.maxLogicBytes = this.writtenBytes = end;
    this.tailStart = end;
    this.minLogicBytes = first.fileFromOffset;
    if (end > 0) {
      const u = await this.readUnits(end / CQ_STORE_UNIT_SIZE - 1, 1);
      if (u && u.length >= CQ_STORE_UNIT_SIZE) this.maxPhysicOffset = readInt64(u, 0) + u.readInt32BE(8);
    }
    // Skip leading pre-blank units for the minimum.
    const head = await this.readUnits(this.minOffset, 1);
    if (head && head.length >= CQ_STORE_UNIT_SIZE && head.readInt32BE(8) === BLANK_SIZE) {
      await this.correctMinOffset(0);
    }
  }

  /** Appends one unit at logical offset `cqOffset` (dispatch). Returns false for a duplicate. */
  putUnit(phyOffset: number, size: number, tagsCode: number, cqOffset: number): boolean {
    const at = cqOffset * CQ_STORE_UNIT_SIZE;
    if (at < this.maxLogicBytes) return false;
    if (this.maxLogicBytes === 0 && this.files.files.length === 0 && at > 0) {
      // A queue starting mid-way (its older CommitLog was deleted): pad its first file.
      const fileStart = at - (at % this.fileSize);
      this.tailStart = this.writtenBytes = this.maxLogicBytes = fileStart;
      this.minLogicBytes = at;
    } else if (at > this.maxLogicBytes) {
      this.log.error(
        { topic: this.topic, queueId: this.queueId, expected: this.maxLogicBytes / 20, got: cqOffset },
        'consume queue offset gap; padding with blank units',
      );
    }
    while (this.maxLogicBytes < at) this.appendRaw(0, BLANK_SIZE, 0);
    this.appendRaw(phyOffset, size, tagsCode);
    this.maxPhysicOffset = phyOffset + size;
    return true;
  }

  private appendRaw(phy: number, size: number, tagsCode: number): void {
    if (this.tailLen + CQ_STORE_UNIT_SIZE > this.tail.length) this.compactTail();
    const p = this.tailLen;
    writeInt64(this.tail, p, phy);
    this.tail.writeInt32BE(size, p + 8);
    writeInt64(this.tail, p + 12, tagsCode);
    this.tailLen += CQ_STORE_UNIT_SIZE;
    this.maxLogicBytes += CQ_STORE_UNIT_SIZE;
  }

  /** Drops the written prefix of the tail, growing it when mostly unwritten. Never while writing. */
  private compactTail(): void {
    const keepFrom = this.writing ? this.tailStart : this.writtenBytes;
    const keep = this.tailStart + this.tailLen - keepFrom;
    const size = keep * 2 + CQ_STORE_UNIT_SIZE > this.tail.length ? this.tail.length * 2 : this.tail.length;
    const next = size === this.tail.length && !this.writing ? this.tail : Buffer.allocUnsafe(size);
    this.tail.copy(next, 0, keepFrom - this.tailStart, this.tailLen);
    this.tail = next;
    this.tailStart = keepFrom;
    this.tailLen = keep;
  }

  /** Hands the unwritten tail to the files (one pass at a time). */
  async writeTail(): Promise<void> {
    while (this.writing) await this.writing;
    if (this.writtenBytes >= this.maxLogicBytes) return;
    this.writing = (async () => {
      const end = this.maxLogicBytes;
      const buf = this.tail;
      const bufStart = this.tailStart;
      let pos = this.writtenBytes;
      while (pos < end) {
        let f = this.files.findByOffset(pos);
        if (!f) {
          await this.files.ensureDir();
          f = this.files.createFile(pos - (pos % this.fileSize));
        }
        const n = Math.min(end, f.fileEndOffset) - pos;
        await f.write(buf, pos - bufStart, n, pos - f.fileFromOffset);
        pos += n;
        this.writtenBytes = pos;
      }
    })();
    try {
      await this.writing;
    } finally {
      this.writing = undefined;
    }
  }

  async flush(): Promise<void> {
    await this.writeTail();
    for (const f of this.files.files) if (f.wrotePosition > f.flushedPosition) await f.flush();
  }

  /**
   * Units [index, index+count) clipped to what exists, to one file and to one read block (callers
   * ask again from where it ends); bytes the caller may keep: a copy of the tail, else a view of a
   * block read from the file, never changed afterwards. undefined when index is outside the queue.
   * A pull asks for many more units than it serves (tag filtering), so a request that runs past the
   * block read last is served up to its end rather than read again.
   */
  async readUnits(index: number, count: number): Promise<Buffer | undefined> {
    let start = index * CQ_STORE_UNIT_SIZE;
    if (start < this.minLogicBytes) start = this.minLogicBytes - (this.minLogicBytes % CQ_STORE_UNIT_SIZE);
    const end = Math.min(this.maxLogicBytes, (index + count) * CQ_STORE_UNIT_SIZE);
    if (start >= end) return undefined;
    if (start >= this.tailStart) {
      return Buffer.from(this.tail.subarray(start - this.tailStart, end - this.tailStart));
    }
    const c = this.cache;
    if (c && start >= c.start && start + CQ_STORE_UNIT_SIZE <= c.start + c.buf.length) {
      return c.buf.subarray(start - c.start, Math.min(end, c.start + c.buf.length) - c.start);
    }
    const f = this.files.findByOffset(start);
    if (!f) return undefined;
    const blockEnd = Math.min(f.fileEndOffset, this.tailStart, start + READ_BLOCK);
    const block = Buffer.allocUnsafe(blockEnd - start);
    const n = await f.read(block, 0, block.length, start - f.fileFromOffset);
    const got = block.subarray(0, n - (n % CQ_STORE_UNIT_SIZE));
    this.cache = { start, buf: got };
    return got.subarray(0, Math.min(got.length, end - start));
  }

  /** Logical offset of the first unit of the file after the one holding `index`. */
  rollNextFile(index: number): number {
    const unitsPerFile = this.fileSize / CQ_STORE_UNIT_SIZE;
    return index + unitsPerFile - (index % unitsPerFile);
  }

  /** Recovery: drops every unit whose record starts at or after `phyOffset`. */
  async truncateFromPhy(phyOffset: number): Promise<void> {
    let lo = this.minOffset;
    let hi = this.maxOffset;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const u = await this.readUnits(mid, 1);
      const phy =
        u && u.length >= CQ_STORE_UNIT_SIZE && u.readInt32BE(8) !== BLANK_SIZE ? readInt64(u, 0) : -1;
      if (phy >= phyOffset) hi = mid;
      else lo = mid + 1;
    }
    if (lo >= this.maxOffset) return;
    await this.truncateAt(lo * CQ_STORE_UNIT_SIZE);
  }

  private async truncateAt(bytes: number): Promise<void> {
    while (this.writing) await this.writing;
    this.cache = undefined;
    if (bytes <= this.tailStart) {
      await this.files.truncateDirty(bytes, true);
      this.tailStart = bytes;
      this.tailLen = 0;
    } else {
      this.tailLen = bytes - this.tailStart;
      if (this.writtenBytes > bytes) await this.files.truncateDirty(bytes, true);
    }
    this.maxLogicBytes = bytes;
    this.writtenBytes = Math.min(this.writtenBytes, bytes);
    if (this.minLogicBytes > bytes) this.minLogicBytes = bytes;
    this.maxPhysicOffset = -1;
    if (bytes > this.minLogicBytes) {
      const u = await this.readUnits(bytes / CQ_STORE_UNIT_SIZE - 1, 1);
      if (u && u.length >= CQ_STORE_UNIT_SIZE) this.maxPhysicOffset = readInt64(u, 0) + u.readInt32BE(8);
    }
    this.log.info(
      { topic: this.topic, queueId: this.queueId, maxOffset: this.maxOffset },
      'consume queue truncated',
    );
  }

  /** Moves the minimum to the first unit whose record is at or after the CommitLog minimum. */
  async correctMinOffset(commitLogMinOffset: number): Promise<void> {
    let idx = this.minOffset;
    while (idx < this.maxOffset) {
      const units = await this.readUnits(idx, 1024);
      if (!units) break;
      let i = 0;
      for (; i < units.length; i += CQ_STORE_UNIT_SIZE) {
        const size = units.readInt32BE(i + 8);
        if (size !== BLANK_SIZE && readInt64(units, i) >= commitLogMinOffset) break;
      }
      idx += i / CQ_STORE_UNIT_SIZE;
      if (i < units.length) break;
    }
    const bytes = idx * CQ_STORE_UNIT_SIZE;
    if (bytes > this.minLogicBytes) this.minLogicBytes = bytes;
  }

  /** Deletes whole files whose every unit points below the CommitLog minimum. Returns how many. */
  async deleteExpiredFiles(commitLogMinOffset: number, maxFiles: number): Promise<number> {
    let deleted = 0;
    while (this.files.files.length > 1 && deleted < maxFiles) {
      const f = this.files.first!;
      const lastUnit = Buffer.allocUnsafe(CQ_STORE_UNIT_SIZE);
      const n = await f.read(lastUnit, 0, CQ_STORE_UNIT_SIZE, this.fileSize - CQ_STORE_UNIT_SIZE);
      if (n < CQ_STORE_UNIT_SIZE) break;
      const end = readInt64(lastUnit, 0) + lastUnit.readInt32BE(8);
      if (end > commitLogMinOffset) break;
      await this.files.deleteFirst();
      this.cache = undefined;
      deleted++;
    }
    if (this.minLogicBytes < this.files.minOffset()) this.minLogicBytes = this.files.minOffset();
    return deleted;
  }

  async destroy(): Promise<void> {
    while (this.writing) await this.writing;
    await this.files.destroyAll();
    await this.fs.rmdir(this.files.dir).catch(() => undefined);
  }

  async close(): Promise<void> {
    while (this.writing) await this.writing;
    await this.files.closeAll();
  }
}
