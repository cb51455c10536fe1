/**
 * One IndexFile: a hash index from message keys to CommitLog offsets, upstream's layout.
 * Path `index/<yyyyMMddHHmmssSSS>` (creation time). All integers big-endian.
 *
 *   header (40 bytes)
 *     0  8  beginTimestamp    store time of the first entry
 *     8  8  endTimestamp      store time of the last entry
 *    16  8  beginPhyOffset    CommitLog offset of the first entry
 *    24  8  endPhyOffset      CommitLog offset of the last entry
 *    32  4  hashSlotCount     slots in use
 *    36  4  indexCount        next entry number (starts at 1; entry 0 is unused)
 *   slots   maxHashSlotNum x int32 at 40 + slot*4: newest entry number of the slot (0 = empty)
 *   entries maxIndexNum x 20 bytes at 40 + slots*4 + n*20:
 *     0  4  keyHash           |String.hashCode(key)| (0 when that overflows)
 *     4  8  phyOffset
 *    12  4  timeDiff          seconds since beginTimestamp, clamped to [0, 2^31-1]
 *    16  4  prevIndex         previous entry of the same slot (0 = end of chain)
 *
 * The writable (last) file keeps its slot table in memory as the file's own bytes (big-endian), so
 * writing dirty pages out is a copy, not a conversion; it writes entries, dirty slot pages and
 * the header in that order, so a header on disk never counts an entry that is not there. After a
 * crash, slots pointing at entries past the header's count are walked back to counted entries.
 */
import { readInt64, setInt64, writeInt64 } from '../../common/int64.js';
import { javaStringHashCode } from '../../common/java-hash.js';
import type { StoreFs } from '../io/store-fs.js';

export const INDEX_HEADER_SIZE = 40;
export const INDEX_ENTRY_SIZE = 20;
const SLOT_PAGE = 4096;
/** Largest slot-table write. */
const SLOT_RUN = 1024 * 1024;

export interface IndexHeader {
  beginTimestamp: number;
  endTimestamp: number;
  beginPhyOffset: number;
  endPhyOffset: number;
  hashSlotCount: number;
  indexCount: number;
}

function viewOf(b: Buffer): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

export function indexKeyHash(key: string): number {
  return absHash(javaStringHashCode(key));
}

/** Math.abs(Integer.MIN_VALUE) stays negative in Java; upstream then uses 0. */
function absHash(h: number): number {
  return h === -2147483648 ? 0 : Math.abs(h);
}

/** hashCode(prefix + s) from hashCode(prefix) without building the string. */
export function indexKeyHashWithPrefix(prefixHash: number, s: string): number {
  let h = prefixHash;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return absHash(h);
}

export function indexFileName(ts: number): string {
  const d = new Date(ts);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return (
    `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}` +
    `${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}${p(d.getMilliseconds(), 3)}`
  );
}

/**
 * Slot tables of closed files, for the next writable file of the same size: a table is 20 MB by
 * default and only freed when the garbage collector gets to it, so a process opening stores one
 * after another kept one per store resident.
 */
const idleTables: Buffer[] = [];

function takeTable(slotNum: number, zero: boolean): Buffer {
  const i = idleTables.findIndex((t) => t.length === slotNum * 4);
  if (i < 0) return Buffer.alloc(slotNum * 4);
  const t = idleTables.splice(i, 1)[0]!;
  if (zero) t.fill(0);
  return t;
}

export class IndexFile {
  header: IndexHeader = {
    beginTimestamp: 0,
    endTimestamp: 0,
    beginPhyOffset: 0,
    endPhyOffset: 0,
    hashSlotCount: 0,
    indexCount: 1,
  };
  /** The slot table as stored: int32 big-endian at slot * 4. */
  private slots: Buffer | undefined;
  /**
   * Views of `slots` and `pending` for the put path: DataView's big-endian accessors compile to a
   * load and a byte swap, several times cheaper than Buffer's readInt32BE / writeInt32BE.
   */
  private slotView: DataView | undefined;
  private pendingView: DataView;
  private dirtyPages: Uint8Array | undefined;
  private pending = Buffer.allocUnsafe(64 * 1024);
  private pendingLen = 0;
  /** Entry number of pending[0]. */
  private pendingFrom = 1;
  private writing: Promise<void> | undefined;

  private constructor(
    private readonly fs: StoreFs,
    readonly path: string,
    private fd: number,
    readonly slotNum: number,
    readonly indexNum: number,
  ) {
    this.pendingView = viewOf(this.pending);
  }

  private setSlots(slots: Buffer | undefined): void {
    this.slots = slots;
    this.slotView = slots && viewOf(slots);
  }

  get fileSize(): number {
    return INDEX_HEADER_SIZE + this.slotNum * 4 + this.indexNum * INDEX_ENTRY_SIZE;
  }

  static async create(fs: StoreFs, path: string, slotNum: number, indexNum: number): Promise<IndexFile> {
    const fd = await fs.open(path, 'w+');
    const f = new IndexFile(fs, path, fd, slotNum, indexNum);
    await fs.ftruncate(fd, f.fileSize);
    f.setSlots(takeTable(slotNum, true));
    f.dirtyPages = new Uint8Array(Math.ceil((slotNum * 4) / SLOT_PAGE));
    return f;
  }

  /** Opens an existing file; `writable` loads (and repairs) its slot table for appends. */
  static async open(
    fs: StoreFs,
    path: string,
    slotNum: number,
    indexNum: number,
    writable: boolean,
  ): Promise<IndexFile> {
    const fd = await fs.open(path, 'r+');
    const f = new IndexFile(fs, path, fd, slotNum, indexNum);
    const h = Buffer.alloc(INDEX_HEADER_SIZE);
    await fs.read(fd, h, 0, INDEX_HEADER_SIZE, 0);
    f.header = {
      beginTimestamp: readInt64(h, 0),
      endTimestamp: readInt64(h, 8),
      beginPhyOffset: readInt64(h, 16),
      endPhyOffset: readInt64(h, 24),
      hashSlotCount: h.readInt32BE(32),
      indexCount: Math.max(1, h.readInt32BE(36)),
    };
    f.pendingFrom = f.header.indexCount;
    if (writable) await f.loadSlots();
    return f;
  }

  private async loadSlots(): Promise<void> {
    // Read in SLOT_RUN pieces: the table is 20 MB by default and start-up time matters (recovery).
    const slots = takeTable(this.slotNum, false);
    const bytes = this.slotNum * 4;
    for (let at = 0; at < bytes; at += SLOT_RUN) {
      const n = Math.min(SLOT_RUN, bytes - at);
      const got = await this.fs.read(this.fd, slots, at, n, INDEX_HEADER_SIZE + at);
      if (got < n) slots.fill(0, at + got, at + n);
    }
    const count = this.header.indexCount;
    let maxV = 0;
    for (let at = 0; at < bytes; at += 4) {
      const v = slots.readInt32BE(at);
      if (v > maxV && v < this.indexNum) maxV = v;
    }
    let repaired = 0;
    if (maxV >= count) {
      // Entries at or past `count` were written after the header last was: read them once and
      // follow each affected slot's chain back to an entry the header counts.
      const extra = Buffer.alloc((maxV - count + 1) * INDEX_ENTRY_SIZE);
      await this.fs.read(this.fd, extra, 0, extra.length, this.entryPos(count));
      for (let at = 0; at < bytes; at += 4) {
        const was = slots.readInt32BE(at);
        let v = was;
        while (v >= count && v <= maxV) {
          const prev = extra.readInt32BE((v - count) * INDEX_ENTRY_SIZE + 16);
          v = prev < v ? prev : 0;
          repaired++;
        }
        if (v < 0 || v >= count) v = 0;
        if (v !== was) slots.writeInt32BE(v, at);
      }
    }
    this.setSlots(slots);
    this.dirtyPages = new Uint8Array(Math.ceil((this.slotNum * 4) / SLOT_PAGE));
    if (repaired > 0) this.dirtyPages.fill(1);
  }

  /** Bytes of entries not yet handed to the kernel. */
  get pendingBytes(): number {
    return this.pendingLen;
  }

  get isFull(): boolean {
    return this.header.indexCount >= this.indexNum;
  }

  private entryPos(n: number): number {
    return INDEX_HEADER_SIZE + this.slotNum * 4 + n * INDEX_ENTRY_SIZE;
  }

  /** Adds one key (writable file only). False when the file is full. */
  putKey(keyHash: number, phyOffset: number, storeTimestamp: number): boolean {
    const slots = this.slotView!;
    const h = this.header;
    if (h.indexCount >= this.indexNum) return false;
    const slot = keyHash % this.slotNum;
    let prev = slots.getInt32(slot * 4);
    if (prev <= 0 || prev > h.indexCount) prev = 0;
    if (h.indexCount <= 1) {
      h.beginPhyOffset = phyOffset;
      h.beginTimestamp = storeTimestamp;
    }
    let timeDiff = h.beginTimestamp <= 0 ? 0 : Math.floor((storeTimestamp - h.beginTimestamp) / 1000);
    if (timeDiff > 0x7fffffff) timeDiff = 0x7fffffff;
    if (timeDiff < 0) timeDiff = 0;
    if (this.pendingLen + INDEX_ENTRY_SIZE > this.pending.length) {
      const next = Buffer.allocUnsafe(this.pending.length * 2);
      this.pending.copy(next, 0, 0, this.pendingLen);
      this.pending = next;
      this.pendingView = viewOf(next);
    }
    const p = this.pendingLen;
    const b = this.pendingView;
    b.setInt32(p, keyHash);
    setInt64(b, p + 4, phyOffset);
    b.setInt32(p + 12, timeDiff);
    b.setInt32(p + 16, prev);
    this.pendingLen += INDEX_ENTRY_SIZE;
    slots.setInt32(slot * 4, h.indexCount);
    this.dirtyPages![slot >>> 10] = 1;
    if (prev === 0) h.hashSlotCount++;
    h.indexCount++;
    h.endPhyOffset = phyOffset;
    h.endTimestamp = storeTimestamp;
    return true;
  }

  /** Writes pending entries, then dirty slot pages, then the header; `sync` adds fdatasync between. */
  write(sync: boolean): Promise<void> {
    return this.oneAtATime(sync, false);
  }

  /**
   * Hands pending entries to the kernel and nothing else: bounds the memory they take between
   * checkpoints without copying the slot table each time (random keys dirty all of its 20 MB).
   * Slots and header follow at the next write(); until then the file on disk is the previous
   * write's, with entries past its count that a restart overwrites as it re-dispatches them.
   */
  writeEntries(): Promise<void> {
    return this.oneAtATime(false, true);
  }

  /** Writes never overlap: each waits for the one in progress. */
  private async oneAtATime(sync: boolean, entriesOnly: boolean): Promise<void> {
    while (this.writing) await this.writing;
    this.writing = this.doWrite(sync, entriesOnly);
    try {
      await this.writing;
    } finally {
      this.writing = undefined;
    }
  }

  private async doWrite(sync: boolean, entriesOnly: boolean): Promise<void> {
    const len = this.pendingLen;
    const header = { ...this.header };
    if (len > 0) {
      const entries = Buffer.from(this.pending.subarray(0, len));
      await this.fs.write(this.fd, entries, 0, len, this.entryPos(this.pendingFrom));
      this.pending.copy(this.pending, 0, len, this.pendingLen);
      this.pendingLen -= len;
      this.pendingFrom += len / INDEX_ENTRY_SIZE;
    }
    if (entriesOnly) return;
    if (sync) await this.fs.fdatasync(this.fd);
    const slots = this.slots;
    const dirty = this.dirtyPages;
    if (slots && dirty) {
      // Random keys soon dirty every page of a large table: runs of dirty pages go out in writes
      // of up to SLOT_RUN bytes (one 4 KiB write per page took ~0.8 s for the default 20 MB table),
      // each from a copy taken on the loop, so puts meanwhile never tear a slot being written.
      const perPage = SLOT_PAGE / 4;
      const run = Buffer.allocUnsafe(Math.min(SLOT_RUN, dirty.length * SLOT_PAGE));
      const maxPages = run.length / SLOT_PAGE;
      for (let pg = 0; pg < dirty.length;) {
        if (!dirty[pg]) {
          pg++;
          continue;
        }
        let end = pg;
        while (end < dirty.length && dirty[end] && end - pg < maxPages) dirty[end++] = 0;
        const first = pg * perPage;
        const n = Math.min(end * perPage, this.slotNum) - first;
        slots.copy(run, 0, first * 4, (first + n) * 4);
        await this.fs.write(this.fd, run, 0, n * 4, INDEX_HEADER_SIZE + first * 4);
        pg = end;
      }
    }
    if (sync) await this.fs.fdatasync(this.fd);
    const h = Buffer.allocUnsafe(INDEX_HEADER_SIZE);
    writeInt64(h, 0, header.beginTimestamp);
    writeInt64(h, 8, header.endTimestamp);
    writeInt64(h, 16, header.beginPhyOffset);
    writeInt64(h, 24, header.endPhyOffset);
    h.writeInt32BE(header.hashSlotCount, 32);
    h.writeInt32BE(Math.min(header.indexCount, this.pendingFrom), 36);
    await this.fs.write(this.fd, h, 0, INDEX_HEADER_SIZE, 0);
    if (sync) await this.fs.fdatasync(this.fd);
  }

  /** Drops the in-memory slot table once the file is full and written. */
  seal(): void {
    if (this.slots && idleTables.length < 2) idleTables.push(this.slots);
    this.setSlots(undefined);
    this.dirtyPages = undefined;
  }

  isTimeMatched(begin: number, end: number): boolean {
    const h = this.header;
    return (
      (begin < h.beginTimestamp && end > h.endTimestamp) ||
      (begin >= h.beginTimestamp && begin <= h.endTimestamp) ||
      (end >= h.beginTimestamp && end <= h.endTimestamp)
    );
  }

  private async readEntry(n: number, into: Buffer): Promise<boolean> {
    if (n >= this.pendingFrom) {
      const at = (n - this.pendingFrom) * INDEX_ENTRY_SIZE;
      if (at + INDEX_ENTRY_SIZE > this.pendingLen) return false;
      this.pending.copy(into, 0, at, at + INDEX_ENTRY_SIZE);
      return true;
    }
    return (await this.fs.read(this.fd, into, 0, INDEX_ENTRY_SIZE, this.entryPos(n))) === INDEX_ENTRY_SIZE;
  }

  /** CommitLog offsets of entries for `key` stored within [begin, end] ms, newest first. */
  async selectPhyOffsets(
    key: string,
    maxNum: number,
    begin: number,
    end: number,
    out: number[],
  ): Promise<void> {
    const keyHash = indexKeyHash(key);
    const slot = keyHash % this.slotNum;
    let next: number;
    if (this.slots) {
      next = this.slots.readInt32BE(slot * 4);
    } else {
      const b = Buffer.alloc(4);
      await this.fs.read(this.fd, b, 0, 4, INDEX_HEADER_SIZE + slot * 4);
      next = b.readInt32BE(0);
    }
    const count = this.header.indexCount;
    const e = Buffer.allocUnsafe(INDEX_ENTRY_SIZE);
    while (next > 0 && next < count && out.length < maxNum) {
      if (!(await this.readEntry(next, e))) break;
      const timeRead = this.header.beginTimestamp + e.readInt32BE(12) * 1000;
      if (e.readInt32BE(0) === keyHash && timeRead >= begin && timeRead <= end) out.push(readInt64(e, 4));
      const prev = e.readInt32BE(16);
      if (prev <= 0 || prev >= next || timeRead < begin) break;
      next = prev;
    }
  }

  async close(): Promise<void> {
    while (this.writing) await this.writing;
    if (this.fd >= 0) await this.fs.close(this.fd).catch(() => undefined);
    this.fd = -1;
    this.seal();
  }

  async destroy(): Promise<void> {
    await this.close();
    await this.fs.unlink(this.path).catch(() => undefined);
  }
}
