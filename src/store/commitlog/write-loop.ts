/**
 * The CommitLog's write loop: seals staged records (their CRCs, record-seal.ts) and hands them to
 * the segment files, one write at a time, in offset order. While a write is in flight the sealing
 * worker seals what was staged meanwhile (crc-sealer.ts); what is not sealed when the loop wants
 * to write it is sealed right there (a few puts under SYNC_FLUSH: the round trip would cost more). Only sealed bytes are written; the log's writtenOffset advances (CommitLog.advance) to
 * the end of the last whole record a completed write covered, never inside a record: the flusher,
 * the checkpoint and recovery all start from it.
 *
 * Direct I/O (staging.ts): a write covers whole 4 KiB blocks. When everything staged is sealed and
 * it ends inside a block, the open chunk is closed first (later appends go to a new chunk that
 * starts with a copy of that block) so its last block can be zero-padded in place and go out in the
 * same write. Otherwise a write stops at the last whole block and the rest follows with the next
 * one. A block rewritten this way keeps its earlier bytes, so nothing acknowledged ever moves.
 *
 * Nothing yields between reading a chunk's bounds and issuing its write, so a write covers exactly
 * what was sealed at that moment (an await in between once let a stale bound zero-pad over
 * records appended meanwhile; the kill -9 tests caught it).
 */
import type { Logger } from '../../common/logger.js';
import type { MappedFile } from '../mapped-file.js';
import { BLOCK, type Chunk, type Staging } from './staging.js';
import { CrcSealer } from './crc-sealer.js';

export interface WriteLoopOwner {
  readonly writtenOffset: number;
  readonly stagedOffset: number;
  readonly writable: boolean;
  /** Every byte below `offset` (a record boundary) is in the kernel. */
  advance(offset: number, storeTs: number): void;
  onWriteError(err: unknown): Promise<void>;
  beforeWrite: ((file: MappedFile, from: number, to: number) => Promise<void> | undefined) | undefined;
}

export class WriteLoop {
  readonly sealer: CrcSealer;
  private writing = false;
  private drainScheduled = false;
  private sealing: Promise<void> | undefined;
  private sealingChunk: Chunk | undefined;

  constructor(
    private readonly owner: WriteLoopOwner,
    readonly staging: Staging,
    appendCrc: boolean,
    sealThread: boolean,
    log: Logger,
  ) {
    this.sealer = new CrcSealer(staging.arena, appendCrc, sealThread, log);
  }

  /** Something was staged: seal and write it soon (after the current callbacks). */
  schedule(): void {
    if (this.drainScheduled || this.writing) return;
    this.drainScheduled = true;
    setImmediate(() => void this.drain());
  }

  /** Resolves when no seal job is running (before staged chunks are dropped or the loop stops). */
  async idle(): Promise<void> {
    while (this.sealing) await this.sealing;
  }

  async stop(): Promise<void> {
    await this.idle();
    await this.sealer.stop();
  }

  /**
   * Asks the worker to seal the oldest unsealed records while a write is in flight, when there are
   * enough of them to be worth the round trip; its answer resumes the drain. Sealing runs ahead of
   * writing: by the time a write completes, the next range is usually sealed already.
   */
  private sealAhead(): void {
    if (this.sealing) return;
    const c = this.staging.chunks.find((k) => !k.raw && k.crcTo < k.used);
    if (!c) return;
    const base = this.staging.arenaOffset(c);
    const from = c.crcTo;
    const to = c.used;
    const job = base < 0 ? undefined : this.sealer.sealAsync(base + from, base + to);
    if (!job) return;
    this.sealingChunk = c;
    this.sealing = job.then((end) => {
      this.sealing = undefined;
      this.sealingChunk = undefined;
      // -1: the worker failed; seal this range here instead.
      c.crcTo = end < 0 ? this.sealer.sealInPlace(c.buf, from, to) : end - base;
      this.schedule();
    });
  }

  private async drain(): Promise<void> {
    this.drainScheduled = false;
    if (this.writing) return;
    this.writing = true;
    const st = this.staging;
    const o = this.owner;
    let waitSeal = false;
    try {
      while (o.writable) {
        const c = st.chunks[0];
        if (!c) break;
        if (c.written === c.used) {
          if (!c.sealed) break;
          st.completeHead();
          if (c.end > o.writtenOffset) o.advance(c.end, c.lastStoreTs);
          continue;
        }
        const direct = st.isAligned(c) && c.file.directOpened !== false;
        if (direct && c.file.directOpened === undefined) {
          // Opening yields: appends may land meanwhile, so look at the chunk again afterwards.
          await c.file.openDirect();
          continue;
        }
        const rel = c.start - c.file.fileFromOffset;
        const gate = o.beforeWrite?.(c.file, rel + c.written, rel + c.used + BLOCK);
        if (gate) {
          await gate;
          continue;
        }
        // From here to the write call nothing yields.
        const from = c.written;
        if (!c.raw && c.crcTo < c.used && c.crcTo - from < BLOCK) {
          // Nothing (or less than a block) sealed to write: seal here, unless the worker is on it.
          if (this.sealingChunk === c) {
            waitSeal = true; // its answer resumes the drain
            break;
          }
          c.crcTo = this.sealer.sealInPlace(c.buf, c.crcTo, c.used);
        }
        const to = c.raw ? c.used : c.crcTo;
        if (to <= from) break;
        const ts = c.lastStoreTs;
        const write = direct
          ? this.writeDirect(c, from, to, rel)
          : c.file.write(c.buf, from, to - from, rel + from);
        this.sealAhead();
        let done = to;
        if (direct) {
          done = (await write) as number;
          if (done === from) {
            waitSeal = true; // less than a block sealed past what is written
            break;
          }
        } else {
          await write;
        }
        c.written = done;
        if (c.sealed && c.written === c.used) {
          st.completeHead();
          o.advance(c.end, ts);
        } else {
          const end = done === to ? to : this.recordBoundaryBefore(c, done);
          if (c.start + end > o.writtenOffset) o.advance(c.start + end, end === c.used ? ts : 0);
        }
      }
    } catch (err) {
      await this.idle();
      await o.onWriteError(err);
    } finally {
      this.writing = false;
    }
    const head = st.chunks[0];
    if (!head || !o.writable) return;
    if (waitSeal) {
      if (!this.sealing) this.schedule();
    } else if (head.written < head.used || head.sealed) {
      this.schedule();
    }
  }

  /**
   * One O_DIRECT write of sealed chunk bytes [from, to); returns how far it wrote (whole blocks,
   * or `to` when the last block went out zero-padded). See the file comment.
   */
  private async writeDirect(c: Chunk, from: number, to: number, rel: number): Promise<number> {
    const a = from - (from % BLOCK);
    if (to === c.used && to % BLOCK !== 0 && c === this.staging.cur) c.sealed = true;
    if (c.sealed && to === c.used) {
      const b = Math.ceil(to / BLOCK) * BLOCK;
      c.buf.fill(0, to, b);
      await c.file.writeDirect(c.buf, a, b - a, rel + a, rel + to);
      return to;
    }
    const b = to - (to % BLOCK);
    if (b <= a) return from;
    await c.file.writeDirect(c.buf, a, b - a, rel + a, rel + b);
    return Math.max(b, from);
  }

  /** The end of the last record of chunk `c` that lies wholly below chunk position `limit`. */
  private recordBoundaryBefore(c: Chunk, limit: number): number {
    let pos = Math.max(this.owner.writtenOffset - c.start, c.headPending);
    for (;;) {
      const size = c.buf.readInt32BE(pos);
      if (size <= 0 || pos + size > limit) return pos;
      pos += size;
    }
  }
}
