/**
 * Read-ahead blocks of CommitLog bytes for consumers. A pull of one queue of a many-queue topic
 * needs records spread over a span several times its own size (the other queues' records sit in
 * between), and the next pull of that queue continues right after: reading a block once serves
 * several pulls, and when a reader moves forward the next blocks are read in the background so its
 * pulls do not wait for the disk.
 *
 * Blocks sit on a grid: a block of span S (a power of two, 64 KiB to 1 MiB, chosen from what the
 * pull needs) starts at a multiple of S (or at its segment's start) and ends at the next multiple
 * (or at the segment's end, or at writtenOffset), less what blocks cached or being read already
 * hold, so reads never overlap. Readers of different queues walking the same stretch of the log
 * therefore ask for the very same blocks and share them, and every read, the pulls' own as well as
 * the read-ahead, is registered so a second reader waits for it instead of reading the bytes
 * again. (Blocks used to start at whichever record missed: readers a little apart read
 * overlapping blocks and kept two read-ahead chains, and the e2e consume benchmark read ~3.5
 * times the bytes it served.) A record crossing a grid line is copied from two blocks; records
 * larger than half the largest span get a buffer of their own.
 *
 * Block buffers are a fixed, recycled set: allocating a fresh 1 MiB buffer per block made the
 * read benchmark spend a third of its time in garbage collection (V8 scavenges on external memory
 * pressure) and page faults. So callers never get views of a block: what they serve is copied
 * out (copy(), or fill() in the turn each block arrives). A block evicted meanwhile is only
 * handed to a new read on the next turn of the event loop (`quarantine`), after every
 * continuation already queued has copied from it.
 *
 * Many readers at once (a consumer per queue of a 16- or 32-queue topic) get less read-ahead
 * each and more blocks in all, up to MAX_MANY_READERS (one-off buffers beyond the recycled
 * set): with 3 blocks ahead of each in 18, 32 readers evicted each other's blocks before using
 * them (e2e consume of 32 queues read 2.9 GB from the device for 230 MB served, at 43k msgs/s).
 *
 * A reader's window of blocks read ahead is topped up after every pull, from cache or not
 * (servedUpTo), and eviction takes least recently used blocks that every recent reader has passed
 * before any other. (Read-ahead used to start only on a miss, and plain LRU evicted blocks read
 * ahead before their reader reached them: readers stopped for the device every few blocks, all
 * together, and e2e consume's store get p99 was 3.6-4.3 ms; now 1.3-3.2.)
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
/** Pulls a block should serve: its span is this many times what the current pull needs. */
const AHEAD_FACTOR = 8;
/** Smallest block span. */
const MIN_SPAN = 64 * 1024;

/** Block span for a pull wanting `need` bytes: a power of two in [MIN_SPAN, READ_AHEAD]. */
function spanFor(need: number): number {
  let span = MIN_SPAN;
  while (span < READ_AHEAD && span < need * AHEAD_FACTOR) span *= 2;
  return span;
}
/** Blocks kept: BLOCKS, plus 2 per queue read in the last second beyond a few, up to MAX_CACHED. */
const BLOCKS = 8;
const MAX_CACHED = 18;
/**
 * Blocks read ahead of a reader moving forward: a disk needs several reads in flight. Here 1 MiB
 * direct reads went 1.1 GB/s one at a time and ~1.3-1.6 GB/s several at a time; the store bench's
 * one-queue-after-another read (device-bound) gained 4-30% (noisy) with 6 ahead instead of 3.
 * With many queues read at once the cache cannot hold 6 ahead of each reader: e2e workload B
 * (8 queues) then once read 1200 MiB from the device for 230 MiB served. So 6 for one or two
 * readers, 3 up to 8, 1 up to MAX_CACHED and none beyond (16 queues with 3 each: 2.4 GB read for
 * 230 MB; with 1: 236-243 MB).
 */
const AHEAD_FEW = 6;
const AHEAD_MANY = 3;
/**
 * Blocks kept with many readers: one each plus a few (the ones past the recycled set are one-off
 * buffers). 32 readers: 290-300 MiB read for 230 MiB served, peak RSS 166 MiB; 64 readers: 363
 * MiB, 187 MiB.
 */
const MAX_MANY_READERS = 48;
/** A reader idle this long (ms) no longer counts; readers are counted again at least this often. */
const ACTIVE_MS = 1000;
const SCAN_MS = 100;

interface Block {
  start: number;
  len: number;
  /** Copy count when last copied from, or when read (least recently used goes first). */
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
  /** CommitLog bytes read into blocks so far (what the pulls cost the device). */
  readBytes = 0;
  /** Records a pull found in no cached block (fill() calls): each waits for a read. */
  misses = 0;
  private blocks: Block[] = [];
  private uses = 0;
  /**
   * Each queue read lately: when (ms) and where its reader goes on from. Readers of many queues
   * need a block each; blocks below every recent reader are the first to go.
   */
  private readonly streams = new Map<string, { at: number; pos: number }>();
  /** Lowest position of the recent readers. */
  private behind = 0;
  /** When the readers were last counted (noteStream). */
  private scannedAt = 0;
  private capacity = BLOCKS;
  private ahead = AHEAD_FEW;
  private pending: Pending[] = [];
  private quarantine: Buffer[] = [];
  private quarantineScheduled = false;

  constructor(private readonly commitLog: CommitLog) {}

  /** Block reads started and not finished. */
  get readsUnderWay(): number {
    return this.pending.length;
  }

  private holder(phy: number, size: number): Block | undefined {
    const bs = this.blocks;
    for (let i = bs.length - 1; i >= 0; i--) {
      const b = bs[i]!;
      if (phy >= b.start && phy + size <= b.start + b.len) return b;
    }
    return undefined;
  }

  /**
   * Copies [phy, phy + size) into dst[pos] from a cached block, or piece by piece from blocks that
   * together hold it (a record crossing a grid line); false when not cached (then fill()).
   */
  copy(phy: number, size: number, dst: Buffer, pos: number): boolean {
    const b = this.holder(phy, size);
    if (b) {
      this.copyPiece(b, phy, phy + size, dst, pos);
      return true;
    }
    if (!this.pieced(phy, size)) return false;
    const end = phy + size;
    for (let at = phy; at < end;) {
      const c = this.containing(at)!;
      const to = Math.min(end, c.start + c.len);
      this.copyPiece(c, at, to, dst, pos + at - phy);
      at = to;
    }
    return true;
  }

  /** Copies log bytes [from, to), which block `b` holds, to dst[pos]; `b` was just used. */
  private copyPiece(b: Block, from: number, to: number, dst: Buffer, pos: number): void {
    b.used = ++this.uses;
    b.buf.copy(dst, pos, b.base + from - b.start, b.base + to - b.start);
  }

  /** The cached block holding `at` that reaches furthest. */
  private containing(at: number): Block | undefined {
    let best: Block | undefined;
    for (const b of this.blocks)
      if (at >= b.start && at < b.start + b.len && (!best || b.start + b.len > best.start + best.len))
        best = b;
    return best;
  }

  /** Cached blocks together hold [phy, phy + size). */
  private pieced(phy: number, size: number): boolean {
    const end = phy + size;
    for (let at = phy; at < end;) {
      const c = this.containing(at);
      if (!c) return false;
      at = c.start + c.len;
    }
    return true;
  }

  /**
   * Copies [phy, phy + size) into dst[pos], waiting for the grid blocks holding it and reading
   * them when nobody is, with blocks sized for `need` (the span the caller wants from `phy`), then
   * reads ahead. Each block's piece is copied as soon as that block is there, in the same turn:
   * with many readers a block can be evicted while the next one is awaited, and its buffer reused
   * from the next turn on. (Checking the cache again at the end made a pull fail with
   * MESSAGE_WAS_REMOVING for records that were there, once blocks were evicted that fast.) False
   * when the bytes cannot be read (past the written end, segment gone).
   */
  async fill(
    phy: number,
    size: number,
    need: number,
    stream: string,
    dst: Buffer,
    pos: number,
  ): Promise<boolean> {
    this.noteStream(stream, phy);
    this.misses++;
    const cl = this.commitLog;
    if (phy < 0 || size <= 0 || phy + size > Math.min(cl.rollNextFile(phy), cl.writtenOffset)) return false;
    if (size > READ_AHEAD / 2) {
      // Larger than a grid block can be sure to hold: a buffer of its own.
      const one = await cl.read(phy, size);
      if (!one) return false;
      this.readBytes += size;
      this.add({ start: phy, len: size, used: 0, buf: one, base: 0 });
      one.copy(dst, pos, 0, size);
      return true;
    }
    // span >= 2 x size: a record lies in one block or crosses one grid line.
    const span = spanFor(Math.max(need, size));
    const end = phy + size;
    let at = phy;
    while (at < end) {
      const b = await this.block(at, span);
      if (!b || b.start + b.len <= at || at < b.start) return false;
      this.copyPiece(b, at, Math.min(end, b.start + b.len), dst, pos + at - phy);
      at = b.start + b.len;
    }
    this.readAhead(at, span);
    return true;
  }

  /**
   * A pull of `stream` was served from cached blocks up to `end`, having wanted `need` bytes of log
   * in all: keeps the read-ahead window in front of it, as fill() does after a miss. Without this
   * a reader ran through the blocks read ahead for it and then waited on the device for the next
   * block: every fourth block with 8 readers, all of them at once, since they walk the same blocks.
   */
  servedUpTo(end: number, need: number, stream: string): void {
    this.noteStream(stream, end);
    if (end < this.commitLog.writtenOffset) this.readAhead(end, spanFor(need));
  }

  /**
   * The bytes to read so that `at` is held: its grid block of span `span` (clipped to the segment
   * and the written end), less what cached or pending blocks already hold at either side, so
   * reads never overlap and readers asking at the same time compute the same range.
   */
  private gap(at: number, span: number): { start: number; end: number } {
    const cl = this.commitLog;
    const segEnd = cl.rollNextFile(at);
    const line = at - (at % span);
    let start = Math.max(line, segEnd - cl.fileSize);
    let end = Math.min(line + span, segEnd, cl.writtenOffset);
    const trim = (s: number, e: number): void => {
      if (e > start && e <= at) start = e;
      if (s > at && s < end) end = s;
    };
    for (const b of this.blocks) trim(b.start, b.start + b.len);
    for (const p of this.pending) trim(p.start, p.end);
    return { start, end };
  }

  private pendingAt(at: number): Pending | undefined {
    let best: Pending | undefined;
    for (const p of this.pending) if (at >= p.start && at < p.end && (!best || p.end > best.end)) best = p;
    return best;
  }

  /** What holds `at`: a cached block, a read under way, or one started now (undefined: cannot). */
  private cover(at: number, span: number): Block | Pending | undefined {
    const c = this.containing(at) ?? this.pendingAt(at);
    if (c) return c;
    const g = this.gap(at, span);
    return this.startRead(g.start, g.end);
  }

  /** A block holding `at` (cached, being read, or read now); undefined when it cannot be read. */
  private async block(at: number, span: number): Promise<Block | undefined> {
    const c = this.cover(at, span);
    return c && 'done' in c ? c.done : c;
  }

  /** Keeps the `ahead` blocks from `from` on cached or being read. */
  private readAhead(from: number, span: number): void {
    let at = from;
    for (let d = 0; d < this.ahead && at < this.commitLog.writtenOffset; d++) {
      const c = this.cover(at, span);
      if (!c) return;
      at = 'done' in c ? c.end : c.start + c.len;
    }
  }

  /** Reads [start, end) into a block, registered as pending until it is cached. */
  private startRead(start: number, end: number): Pending | undefined {
    if (end <= start) return undefined;
    const p: Pending = { start, end, done: this.read(start, end - start) };
    this.pending.push(p);
    void p.done.finally(() => {
      this.pending = this.pending.filter((x) => x !== p);
    });
    return p;
  }

  private async read(start: number, len: number): Promise<Block | undefined> {
    const cl = this.commitLog;
    const buf = takeBlock();
    let block: Block | undefined;
    if (!buf) {
      // Every block buffer is busy: a one-off buffer.
      const one = await cl.read(start, len);
      if (one) block = { start, len, used: 0, buf: one, base: 0 };
    } else {
      const base = await cl.readAligned(start, len, buf).catch(() => -1);
      if (base >= 0) block = { start, len, used: 0, buf, base };
      else this.release(buf);
    }
    if (!block) return undefined;
    this.readBytes += len;
    return this.add(block);
  }

  private add(b: Block): Block {
    b.used = ++this.uses;
    this.blocks.push(b);
    while (this.blocks.length > this.capacity) {
      // Least recently used among the blocks every recent reader has passed, else among all. A
      // block read ahead was read before the reader's current block was last copied from, so
      // plain LRU evicted it before the reader got there, and the reader waited for it again.
      let lru = -1;
      let lruPassed = false;
      for (let i = 0; i < this.blocks.length; i++) {
        const c = this.blocks[i]!;
        const passed = c.start + c.len <= this.behind;
        if (lru < 0 || (passed !== lruPassed ? passed : c.used < this.blocks[lru]!.used)) {
          lru = i;
          lruPassed = passed;
        }
      }
      this.release(this.blocks.splice(lru, 1)[0]!.buf);
    }
    return b;
  }

  /**
   * Notes where `stream` reads on. The readers are counted and their lowest position found again
   * only when this one was that lowest, moved below it, is new, or SCAN_MS passed: servedUpTo calls
   * this for every pull from cache, and a walk over every reader there grew with the square of
   * the readers catching up at once.
   */
  private noteStream(stream: string, pos: number): void {
    const now = Date.now();
    const mine = this.streams.get(stream);
    if (mine) {
      const wasBehind = mine.pos <= this.behind;
      mine.at = now;
      mine.pos = pos;
      if (!wasBehind && pos >= this.behind && now - this.scannedAt < SCAN_MS) return;
    } else {
      if (this.streams.size > 4096) this.streams.clear();
      this.streams.set(stream, { at: now, pos });
    }
    this.scannedAt = now;
    let active = 0;
    let behind = Infinity;
    for (const [k, r] of this.streams) {
      if (now - r.at <= ACTIVE_MS) {
        active++;
        if (r.pos < behind) behind = r.pos;
      } else this.streams.delete(k);
    }
    this.behind = behind;
    this.ahead = active <= 2 ? AHEAD_FEW : active <= 8 ? AHEAD_MANY : active < MAX_CACHED ? 1 : 0;
    this.capacity = Math.max(
      Math.min(MAX_CACHED, Math.max(BLOCKS, 2 * active + this.ahead)),
      Math.min(MAX_MANY_READERS, active + 4),
    );
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

  /** Forgets every block (the store closes), giving their buffers back. */
  clear(): void {
    for (const b of this.blocks) this.release(b.buf);
    this.blocks = [];
  }
}
