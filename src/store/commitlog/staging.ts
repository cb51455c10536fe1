/**
 * The CommitLog's staging buffers ("chunks"): appends are encoded into the current chunk at the
 * offset they are given; the drain loop (commitlog.ts) hands each chunk's bytes to the file in
 * offset order. A chunk covers part of exactly one segment.
 *
 * Buffers are recycled, never freed: on this kind of VM first touching fresh memory costs far more
 * than the copy itself (a host page fault per 4 KiB), and a chunk allocated per few MiB appended
 * showed up as a quarter of the main thread's time in page faults. Chunks that are completely
 * written stay readable for a while (`recent`), so readers of the newest messages get a copy from
 * memory instead of a file read.
 *
 * Direct I/O (`aligned`): O_DIRECT writes need memory, file offset and length aligned to the
 * block size (4 KiB here). Chunk buffers then come from one WebAssembly.Memory (page-aligned, and
 * the only page-aligned allocation JavaScript can ask for), each chunk starts at a 4 KiB boundary
 * of its segment, and a chunk that starts inside a block first copies that block's earlier bytes
 * (already written) from the previous chunk or from `headBlock`, so every write can cover whole
 * blocks. The partial last block of a write goes out through a separate bounce page padded with
 * zeros (the chunk's own bytes past `used` may be filled by appends while the write is in flight).
 */
import type { MappedFile } from '../mapped-file.js';

// lib ES2023 has no WebAssembly types; this is the one constructor used here.
declare const WebAssembly: {
  Memory: new (d: { initial: number; maximum: number; shared?: boolean }) => {
    buffer: ArrayBuffer | SharedArrayBuffer;
  };
};

export const BLOCK = 4096;
const WASM_PAGE = 65536;

export interface Chunk {
  file: MappedFile;
  buf: Buffer;
  /** Absolute CommitLog offset of buf[0]. */
  start: number;
  /** Bytes of buf holding staged data (from buf[0], head copy included). */
  used: number;
  /** Bytes of buf handed to the kernel. */
  written: number;
  /** Absolute offset one past the chunk's logical end (after a filler: the segment end). */
  end: number;
  sealed: boolean;
  lastStoreTs: number;
  /** Arena slot (aligned chunks), -1 for a one-off buffer. */
  slot: number;
}

export class Staging {
  /** Chunks not yet completely written, in offset order. */
  chunks: Chunk[] = [];
  cur: Chunk | undefined;
  /**
   * Aligned mode: bytes of the block holding the log's end, from its 4 KiB boundary up to the end
   * (read from the file after a restart or a repair; empty when the end is block aligned).
   */
  headBlock: { start: number; bytes: Buffer } | undefined;
  /** Completely written chunks kept for reads, oldest first. */
  private recent: Chunk[] = [];
  private readonly pool: Buffer[] = [];
  private readonly freeSlots: number[] = [];
  private readonly arena: Buffer | undefined;
  private readonly slotSize: number;
  /** Aligned mode: the zero-padded copy of a write's partial last block. */
  readonly bounce: Buffer | undefined;

  constructor(
    readonly chunkSize: number,
    private readonly keepRecent: number,
    private readonly maxPooled: number,
    readonly aligned: boolean,
  ) {
    this.slotSize = aligned ? Math.ceil(chunkSize / WASM_PAGE) * WASM_PAGE : chunkSize;
    if (aligned) {
      // One extra page holds the bounce block. Pages are only touched (and resident) once used.
      const pages = (this.slotSize / WASM_PAGE) * maxPooled + 1;
      const mem = new WebAssembly.Memory({ initial: pages, maximum: pages });
      this.arena = Buffer.from(mem.buffer);
      for (let i = maxPooled - 1; i >= 0; i--) this.freeSlots.push(i);
      this.bounce = this.arena.subarray(this.slotSize * maxPooled, this.slotSize * maxPooled + BLOCK);
    }
  }

  /** The chunk to append `need` bytes at `stagedOffset` of `file`, sealing the current one if needed. */
  chunkFor(file: MappedFile, need: number, stagedOffset: number): Chunk {
    const c = this.cur;
    if (c && c.file === file && !c.sealed && c.used + need <= c.buf.length) return c;
    if (c) c.sealed = true;
    const n = this.allocate(file, need, stagedOffset, c);
    this.chunks.push(n);
    this.cur = n;
    return n;
  }

  private allocate(file: MappedFile, need: number, stagedOffset: number, prev: Chunk | undefined): Chunk {
    const rel = stagedOffset - file.fileFromOffset;
    const head = this.aligned ? rel % BLOCK : 0;
    let slot = -1;
    let buf: Buffer;
    if (this.aligned && head + need <= this.slotSize && this.freeSlots.length > 0) {
      slot = this.freeSlots.pop()!;
      buf = this.arena!.subarray(slot * this.slotSize, (slot + 1) * this.slotSize);
    } else if (need + head > this.chunkSize) {
      buf = Buffer.allocUnsafeSlow(need + head);
    } else {
      buf = this.pool.pop() ?? Buffer.allocUnsafeSlow(this.chunkSize);
    }
    const start = stagedOffset - head;
    if (head > 0) this.copyHead(buf, start, head, prev);
    return {
      file,
      buf,
      start,
      used: head,
      written: head,
      end: stagedOffset,
      sealed: false,
      lastStoreTs: 0,
      slot,
    };
  }

  /** Fills buf[0, head) with the already written bytes at [start, start + head). */
  private copyHead(buf: Buffer, start: number, head: number, prev: Chunk | undefined): void {
    if (prev && start >= prev.start && start + head <= prev.start + prev.used) {
      prev.buf.copy(buf, 0, start - prev.start, start - prev.start + head);
      return;
    }
    const hb = this.headBlock;
    if (hb && hb.start === start && hb.bytes.length >= head) {
      hb.bytes.copy(buf, 0, 0, head);
      return;
    }
    throw new Error(`staging: no copy of the ${head} bytes before ${start + head}`);
  }

  /** Whether a chunk's writes may go through O_DIRECT (aligned arena memory). */
  isAligned(c: Chunk): boolean {
    return c.slot >= 0;
  }

  /** The head chunk is sealed and written: keep it for reads for a while. */
  completeHead(): void {
    const c = this.chunks.shift()!;
    if (this.cur === c) this.cur = undefined;
    if (c.slot < 0 && c.buf.length !== this.chunkSize) return;
    this.recent.push(c);
    if (this.recent.length > this.keepRecent) this.recycle(this.recent.shift()!);
  }

  private recycle(c: Chunk): void {
    if (c.slot >= 0) this.freeSlots.push(c.slot);
    else if (c.buf.length === this.chunkSize && this.pool.length < this.maxPooled) this.pool.push(c.buf);
  }

  /** Forgets every staged chunk and written chunks past `offset` (a failed write cut the log there). */
  dropFrom(offset: number): void {
    for (const c of this.chunks) this.recycle(c);
    this.chunks = [];
    this.cur = undefined;
    this.recent = this.recent.filter((c) => {
      if (c.end <= offset) return true;
      this.recycle(c);
      return false;
    });
  }

  /**
   * A copy of [offset, offset+size) when memory still holds all of it below `writtenOffset`,
   * else undefined. Copies, never views: the buffers are reused.
   */
  copyOut(offset: number, size: number, writtenOffset: number): Buffer | undefined {
    const to = offset + size;
    if (to > writtenOffset) return undefined;
    const c = this.find(this.chunks, offset, to) ?? this.find(this.recent, offset, to);
    if (!c) return undefined;
    const out = Buffer.allocUnsafe(size);
    c.buf.copy(out, 0, offset - c.start, to - c.start);
    return out;
  }

  private find(list: Chunk[], from: number, to: number): Chunk | undefined {
    for (let i = list.length - 1; i >= 0; i--) {
      const c = list[i]!;
      if (from >= c.start && to <= c.start + c.used) return c;
    }
    return undefined;
  }
}
