/**
 * Read-ahead blocks of CommitLog bytes for consumers. A pull of one queue of a many-queue topic
 * needs records spread over a span several times its own size (the other queues' records sit in
 * between), and the next pull of that queue continues right after: reading a block of up to
 * READ_AHEAD bytes once serves several pulls, and when a reader moves forward the next block is
 * read in the background so its pulls do not wait for the disk.
 *
 * Block buffers are a fixed, recycled set: allocating a fresh 1 MiB buffer per block made the
 * read benchmark spend a third of its time in garbage collection (V8 scavenges on external memory
 * pressure) and page faults. So callers never get views of a block: they copy what they serve
 * (copy()) right after ensure() resolved, without yielding in between. A block evicted meanwhile
 * is only handed to a new read on the next turn of the event loop (`quarantine`), after every
 * continuation already queued has copied from it.
 *
 * CommitLog bytes below writtenOffset never change, so blocks never go stale; offsets below the
 * CommitLog's minimum (deleted segments) are checked by the caller.
 */
import type { CommitLog } from './commitlog/commitlog.js';

/** Block size (and largest read). */
export const READ_AHEAD = 1024 * 1024;
const BLOCK_BUF = READ_AHEAD + 64 * 1024;
const MAX_BUFFERS = 24;

// lib ES2023 has no WebAssembly types; a page-aligned buffer is all that is needed.
declare const WebAssembly: {
  Memory: new (d: { initial: number; maximum: number }) => { buffer: ArrayBuffer };
};

/**
 * Block buffers, recycled and shared by the stores of the process (see the file comment): slots
 * of one page-aligned arena, so blocks of a direct-I/O CommitLog can be read with O_DIRECT. Pages
 * are resident only once used.
 */
let arena: Buffer | undefined;
const freeBlocks: Buffer[] = [];

function takeBlock(): Buffer | undefined {
  if (!arena) {
    arena = Buffer.from(
      new WebAssembly.Memory({
        initial: (BLOCK_BUF / 65536) * MAX_BUFFERS,
        maximum: (BLOCK_BUF / 65536) * MAX_BUFFERS,
      }).buffer,
    );
    for (let i = MAX_BUFFERS - 1; i >= 0; i--)
      freeBlocks.push(arena.subarray(i * BLOCK_BUF, (i + 1) * BLOCK_BUF));
  }
  return freeBlocks.pop();
}
/** Pulls a block should serve: read ahead this many times what the current pull needs. */
const AHEAD_FACTOR = 8;
/** Blocks kept: BLOCKS, plus 2 per queue read in the last second beyond a few, up to MAX_CACHED. */
const BLOCKS = 8;
const MAX_CACHED = 18;
/** Blocks read ahead of a reader moving forward (a disk needs several reads in flight). */
const AHEAD_BLOCKS = 3;

interface Block {
  start: number;
  len: number;
  /** Copy count when last copied from (least recently used goes first). */
  used: number;
  buf: Buffer;
  /** Position of `start` in buf (a direct read starts at the block boundary before it). */
  base: number;
}

interface Pending {
  start: number;
  end: number;
  done: Promise<Block | undefined>;
}

export class ReadCache {
  private blocks: Block[] = [];
  private uses = 0;
  /** Last time each queue was read (ms): readers of many queues need a block each. */
  private readonly streams = new Map<string, number>();
  private capacity = BLOCKS;
  private pending: Pending[] = [];
  private quarantine: Buffer[] = [];
  private quarantineScheduled = false;

  constructor(private readonly commitLog: CommitLog) {}

  private holder(phy: number, size: number): Block | undefined {
    const bs = this.blocks;
    for (let i = bs.length - 1; i >= 0; i--) {
      const b = bs[i]!;
      if (phy >= b.start && phy + size <= b.start + b.len) return b;
    }
    return undefined;
  }

  /**
   * Copies [phy, phy + size) into dst[pos] from a cached block, or from two adjacent ones when the
   * record straddles them; false when not cached.
   */
  copy(phy: number, size: number, dst: Buffer, pos: number): boolean {
    const b = this.holder(phy, size);
    if (b) {
      b.used = ++this.uses;
      const at = b.base + phy - b.start;
      b.buf.copy(dst, pos, at, at + size);
      return true;
    }
    const pair = this.straddled(phy, size);
    if (!pair) return false;
    const [a, c] = pair;
    const split = c.start;
    a.buf.copy(dst, pos, a.base + phy - a.start, a.base + a.len);
    c.buf.copy(dst, pos + split - phy, c.base, c.base + phy + size - split);
    return true;
  }

  /** Two adjacent cached blocks that together hold [phy, phy + size). */
  private straddled(phy: number, size: number): [Block, Block] | undefined {
    const a = this.blocks.find((x) => phy >= x.start && phy < x.start + x.len);
    if (!a) return undefined;
    const split = a.start + a.len;
    const c = this.blocks.find((x) => x.start === split && phy + size <= x.start + x.len);
    return c ? [a, c] : undefined;
  }

  /**
   * Makes [phy, phy + size) copyable (see the file comment: copy before yielding): waits for a
   * block being read ahead, or reads one from `phy` of at least `need` bytes (the span the caller
   * wants from there). False when the bytes cannot be read (past the written end, segment gone).
   */
  async ensure(phy: number, size: number, need: number, stream: string): Promise<boolean> {
    this.noteStream(stream);
    // A block being read ahead that holds the record, or its tail (the head being cached).
    const p = this.pending.find((x) => phy + size > x.start && phy < x.end && phy + size <= x.end);
    const b = p ? await p.done : undefined;
    if (b && (this.holder(phy, size) || this.straddled(phy, size))) {
      this.readAhead(b.start + b.len, b.len);
      return true;
    }
    if (this.holder(phy, size) || this.straddled(phy, size)) return true;
    const r = await this.read(phy, need);
    if (!r) return false;
    this.readAhead(r.start + r.len, r.len);
    return true;
  }

  /** Keeps the AHEAD_BLOCKS blocks following `from` cached or being read. */
  private readAhead(from: number, len: number): void {
    let start = from;
    for (let d = 0; d < AHEAD_BLOCKS; d++) {
      const next = this.pending.find((x) => x.start === start);
      if (next) {
        start = next.end;
        continue;
      }
      const cached = this.blocks.find((x) => x.start === start);
      if (cached) {
        start = cached.start + cached.len;
        continue;
      }
      if (!this.prefetch(start, len)) return;
      start = this.pending[this.pending.length - 1]!.end;
    }
  }

  private async read(phy: number, need: number): Promise<Block | undefined> {
    const cl = this.commitLog;
    const limit = Math.min(cl.rollNextFile(phy), cl.writtenOffset);
    const len = Math.min(limit - phy, Math.max(need, Math.min(READ_AHEAD, need * AHEAD_FACTOR)));
    if (len < need || len <= 0) return undefined;
    const buf = len > READ_AHEAD ? undefined : takeBlock();
    if (!buf) {
      // Larger than a block (a huge pull), or every buffer busy: a one-off buffer.
      const one = await cl.read(phy, len);
      return one ? this.add({ start: phy, len, used: 0, buf: one, base: 0 }) : undefined;
    }
    const base = await cl.readAligned(phy, len, buf).catch(() => -1);
    if (base < 0) {
      this.release(buf);
      return undefined;
    }
    return this.add({ start: phy, len, used: 0, buf, base });
  }

  private add(b: Block): Block {
    b.used = ++this.uses;
    this.blocks.push(b);
    while (this.blocks.length > this.capacity) {
      let lru = 0;
      for (let i = 1; i < this.blocks.length; i++) if (this.blocks[i]!.used < this.blocks[lru]!.used) lru = i;
      this.release(this.blocks.splice(lru, 1)[0]!.buf);
    }
    return b;
  }

  private noteStream(stream: string): void {
    const now = Date.now();
    if (this.streams.get(stream) === undefined && this.streams.size > 4096) this.streams.clear();
    this.streams.set(stream, now);
    let active = 0;
    for (const [k, t] of this.streams) {
      if (now - t <= 1000) active++;
      else this.streams.delete(k);
    }
    this.capacity = Math.min(MAX_CACHED, Math.max(BLOCKS, 2 * active + AHEAD_BLOCKS));
  }

  /** A buffer to reuse, but only from the next turn on (continuations queued now may copy from it). */
  private release(buf: Buffer): void {
    if (buf.length !== BLOCK_BUF || buf.buffer !== arena?.buffer) return;
    this.quarantine.push(buf);
    if (this.quarantineScheduled) return;
    this.quarantineScheduled = true;
    setImmediate(() => {
      this.quarantineScheduled = false;
      for (const b of this.quarantine) freeBlocks.push(b);
      this.quarantine = [];
    });
  }

  private prefetch(start: number, len: number): boolean {
    const cl = this.commitLog;
    const end = Math.min(start + len, cl.rollNextFile(start), cl.writtenOffset);
    if (end <= start) return false;
    const p: Pending = { start, end, done: this.read(start, end - start) };
    this.pending.push(p);
    void p.done.finally(() => {
      this.pending = this.pending.filter((x) => x !== p);
    });
    return true;
  }

  /** Forgets every block (the store closes), giving their buffers back. */
  clear(): void {
    for (const b of this.blocks) this.release(b.buf);
    this.blocks = [];
  }
}
