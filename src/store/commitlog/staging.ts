/**
 * The CommitLog's staging buffers ("chunks"): appends are encoded into the current chunk at the
 * offset they are given; the write loop (write-loop.ts) has them sealed (record-seal.ts) and
 * written in offset order. A chunk covers part of exactly one segment and stays open for appends
 * until it is full or its segment ends (a write pads its last block in a copy, never in the chunk).
 *
 * Buffers are recycled, never freed: on this kind of VM first touching fresh memory costs far more
 * than the copy itself (a host page fault per 4 KiB), and a chunk allocated per few MiB appended
 * showed up as a quarter of the main thread's time in page faults. They live in one shared
 * WebAssembly.Memory (the arena): page-aligned (the only
 * aligned allocation JavaScript has) for direct I/O, shared so the writer thread reaches them. Written chunks stay readable for a while
 * (`recent`), so readers of the newest messages get a copy from memory instead of a file read.
 *
 * Direct I/O (`aligned`): O_DIRECT writes need memory, file offset and length aligned to the
 * block size (4 KiB here). Each chunk then starts at a 4 KiB boundary of its segment, and a chunk
 * that starts inside a block holds a copy of that block's earlier bytes (already written) so every
 * write covers whole blocks. The copy comes from the previous chunk: made by the writer as part of
 * the chunk's first job when that chunk is still being written (its last records are sealed by the
 * jobs before), else once it is completely written; or from `headBlock` after a restart or repair.
 */
import type { MappedFile } from '../mapped-file.js';
import type { SealScratch } from './record-seal.js';

// lib ES2023 has no WebAssembly types; this is the one constructor used here.
declare const WebAssembly: {
  Memory: new (d: { initial: number; maximum: number; shared?: boolean }) => { buffer: SharedArrayBuffer };
};

export const BLOCK = 4096;
const WASM_PAGE = 65536;
/** Written chunks kept for readers: at most this many bytes and chunks. */
const RECENT_BYTES = 4 * 1024 * 1024;
const RECENT_CHUNKS = 8;
/** After the slots: where the event loop copies the short ranges it hashes (record-seal.ts). */
const SEAL_SCRATCH = WASM_PAGE;

/**
 * Arenas of closed stores, reused by the next store of the same shape. A WebAssembly.Memory is
 * only unmapped when the garbage collector gets to it, and its touched pages count as resident
 * until then: a process that opens stores one after another (tests, benchmarks, a broker
 * reopening its store) kept every previous arena resident.
 */
const idleArenas: SharedArrayBuffer[] = [];

function takeArena(bytes: number): SharedArrayBuffer {
  const i = idleArenas.findIndex((a) => a.byteLength === bytes);
  if (i >= 0) return idleArenas.splice(i, 1)[0]!;
  return new WebAssembly.Memory({ initial: bytes / WASM_PAGE, maximum: bytes / WASM_PAGE, shared: true })
    .buffer;
}

export interface Chunk {
  file: MappedFile;
  buf: Buffer;
  /** Absolute CommitLog offset of buf[0]. */
  start: number;
  /** Bytes of buf holding staged data (from buf[0], head included). */
  used: number;
  /** Bytes of buf whose records are sealed (CRCs filled in). */
  crcTo: number;
  /** Bytes of buf in jobs submitted to the writer (write-loop.ts). */
  issued: number;
  /** Bytes of buf handed to the kernel. */
  written: number;
  /** Absolute offset one past the chunk's logical end (after a filler: the segment end). */
  end: number;
  sealed: boolean;
  lastStoreTs: number;
  /** Arena slot, -1 for a one-off buffer (not shared, not aligned). */
  slot: number;
  /** buf[0, headPending) is still to be copied from `headFrom` (see completeHead). */
  headPending: number;
  headFrom: Chunk | undefined;
  /** The copy rides with the chunk's first write job (the writer copies it; see write-job.ts). */
  headCopying: boolean;
  /** Raw bytes from a master (already sealed): never sealed again. */
  raw: boolean;
}

export class Staging {
  /** Chunks not yet completely written, in offset order. */
  chunks: Chunk[] = [];
  cur: Chunk | undefined;
  /** Aligned mode: the bytes of the block holding the log's end, up to the end (after a restart). */
  headBlock: { start: number; bytes: Buffer } | undefined;
  /** The shared memory every slot lives in. */
  readonly arena: SharedArrayBuffer;
  readonly slotSize: number;
  /** Completely written chunks kept for reads, oldest first. */
  private recent: Chunk[] = [];
  private recentBytes = 0;
  private readonly freeSlots: number[] = [];
  private readonly arenaBuf: Buffer;
  /** For sealing chunks on the event loop (never the writer thread's: both may seal at once). */
  readonly sealScratch: SealScratch;

  constructor(
    readonly chunkSize: number,
    slots: number,
    readonly aligned: boolean,
  ) {
    this.slotSize = Math.ceil(chunkSize / WASM_PAGE) * WASM_PAGE;
    // Reserved, not resident: a page costs memory once a chunk has used it. Slots are reused
    // last-freed first, so the pages in use stay few and warm.
    this.arena = takeArena(this.slotSize * slots + SEAL_SCRATCH);
    this.arenaBuf = Buffer.from(this.arena);
    this.sealScratch = {
      mem: new Uint8Array(this.arena),
      at: this.slotSize * slots,
      size: SEAL_SCRATCH,
      views: new Map(),
    };
    for (let i = slots - 1; i >= 0; i--) this.freeSlots.push(i);
  }

  /** The store is closed and nothing is staged or being sealed: the arena may serve another store. */
  release(): void {
    this.chunks = [];
    this.recent = [];
    this.cur = undefined;
    if (!idleArenas.includes(this.arena)) idleArenas.push(this.arena);
  }

  /** The chunk to append `need` bytes at `stagedOffset` of `file`, sealing the current one if needed. */
  chunkFor(file: MappedFile, need: number, stagedOffset: number, raw = false): Chunk {
    const c = this.cur;
    if (c && c.file === file && !c.sealed && c.raw === raw && c.used + need <= c.buf.length) return c;
    if (c) c.sealed = true;
    const n = this.allocate(file, need, stagedOffset, c, raw);
    this.chunks.push(n);
    this.cur = n;
    return n;
  }

  private allocate(
    file: MappedFile,
    need: number,
    stagedOffset: number,
    prev: Chunk | undefined,
    raw: boolean,
  ): Chunk {
    const head = this.aligned ? (stagedOffset - file.fileFromOffset) % BLOCK : 0;
    let slot = -1;
    let buf: Buffer;
    if (head + need <= this.slotSize && this.freeSlots.length > 0) {
      slot = this.freeSlots.pop()!;
      buf = this.arenaBuf.subarray(slot * this.slotSize, (slot + 1) * this.slotSize);
    } else {
      // A batch bigger than a slot, or every slot busy: a one-off buffer, written through the
      // page cache (not aligned) and sealed on the event loop (not shared).
      buf = Buffer.allocUnsafeSlow(Math.max(head + need, this.chunkSize));
    }
    const start = stagedOffset - head;
    const n: Chunk = {
      file,
      buf,
      start,
      used: head,
      crcTo: head,
      issued: head,
      written: head,
      end: stagedOffset,
      sealed: false,
      lastStoreTs: 0,
      slot,
      headPending: 0,
      headFrom: undefined,
      headCopying: false,
      raw,
    };
    if (head > 0) {
      const covers = (k: Chunk | undefined): k is Chunk =>
        k !== undefined && k.file === file && start >= k.start && start + head <= k.start + k.used;
      const last = this.recent[this.recent.length - 1];
      if (covers(prev) && this.chunks.includes(prev)) {
        // Its records may not be sealed yet: copied when it is completely written.
        n.headPending = head;
        n.headFrom = prev;
      } else if (covers(prev) || covers(last)) {
        const k = covers(prev) ? prev : last!;
        k.buf.copy(buf, 0, start - k.start, start - k.start + head);
      } else if (this.headBlock?.start === start && this.headBlock.bytes.length >= head) {
        this.headBlock.bytes.copy(buf, 0, 0, head);
      } else {
        throw new Error(`staging: no copy of the ${head} bytes before ${stagedOffset}`);
      }
    }
    return n;
  }

  /** Whether a chunk's writes may go through O_DIRECT (aligned arena memory). */
  isAligned(c: Chunk): boolean {
    return this.aligned && c.slot >= 0;
  }

  /** Byte offset of a chunk's buf[0] in the arena (-1 for a one-off buffer). */
  arenaOffset(c: Chunk): number {
    return c.slot < 0 ? -1 : c.slot * this.slotSize;
  }

  /** The head chunk is sealed and written: hand its tail block to the next chunk, keep it for reads. */
  completeHead(): void {
    const c = this.chunks.shift()!;
    if (this.cur === c) this.cur = undefined;
    const next = this.chunks[0];
    if (next && next.headFrom === c && !next.headCopying) {
      c.buf.copy(next.buf, 0, next.start - c.start, next.start - c.start + next.headPending);
      next.headPending = 0;
      next.headFrom = undefined;
    }
    this.recent.push(c);
    this.recentBytes += c.used;
    while (
      this.recent.length > 1 &&
      (this.recentBytes > RECENT_BYTES || this.recent.length > RECENT_CHUNKS)
    ) {
      const old = this.recent.shift()!;
      this.recentBytes -= old.used;
      this.recycle(old);
    }
  }

  private recycle(c: Chunk): void {
    if (c.slot >= 0) this.freeSlots.push(c.slot);
  }

  /** Forgets every staged chunk and written chunks past `offset` (a failed write cut the log there). */
  dropFrom(offset: number): void {
    for (const c of this.chunks) this.recycle(c);
    this.chunks = [];
    this.cur = undefined;
    this.recent = this.recent.filter((c) => {
      if (c.end <= offset) return true;
      this.recentBytes -= c.used;
      this.recycle(c);
      return false;
    });
  }

  /**
   * Copies [offset, offset+size) into `into` when memory still holds all of it below
   * `writtenOffset`; false otherwise. Copies, never views: the buffers are reused.
   */
  copyOut(offset: number, size: number, writtenOffset: number, into: Buffer, at = 0): boolean {
    const to = offset + size;
    if (to > writtenOffset) return false;
    const c = this.find(this.chunks, offset, to) ?? this.find(this.recent, offset, to);
    if (!c) return false;
    c.buf.copy(into, at, offset - c.start, to - c.start);
    return true;
  }

  private find(list: Chunk[], from: number, to: number): Chunk | undefined {
    for (let i = list.length - 1; i >= 0; i--) {
      const c = list[i]!;
      if (from >= c.start + c.headPending && to <= c.start + c.used) return c;
    }
    return undefined;
  }
}
