/**
 * A CommitLog write job: whole records staged in one chunk (staging.ts) that must be sealed
 * (record-seal.ts) and handed to the kernel. The write loop (write-loop.ts) cuts jobs and submits
 * them in offset order to an executor, which runs them strictly in that order and reports each
 * one back: the writer thread (writer-thread.ts, the default) or the event loop itself (below:
 * no worker, a one-off buffer outside the shared arena, or an injected StoreFs in tests).
 *
 * Direct I/O: a job's write starts at the block boundary at or before `from` (rewriting that
 * block's earlier bytes, already written by the previous job) and ends with its last partial block
 * copied into a zero-padded scratch block. The chunk itself is never padded in place, so appends can
 * go on into the same block while the write is in flight, and the next job rewrites that block
 * whole. Jobs run one after another, so two writes of one block are never in flight together.
 */
import { writeSync, writevSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import type { MappedFile } from '../mapped-file.js';
import { crcShiftTable, sealRecords } from './record-seal.js';
import { BLOCK, type Chunk } from './staging.js';

export interface WriteJob {
  seq: number;
  chunk: Chunk;
  file: MappedFile;
  /** The job's new bytes, chunk-relative: whole records [from, to), from = the previous job's end. */
  from: number;
  to: number;
  direct: boolean;
  /** Raw bytes from a master: already sealed. */
  raw: boolean;
  /** When set, chunk.buf[0, headLen) is first copied from this chunk (the block's earlier bytes). */
  headSrc: Chunk | undefined;
  headLen: number;
  /** Store timestamp of the job's last record. */
  ts: number;
  /** Jobs of an epoch that saw a failed write are skipped (see WriteLoop). */
  epoch: number;
}

/** What an executor reports for a job: written, failed (with the error), or skipped after a failure. */
export const SKIPPED: unique symbol = Symbol('skipped');
export type JobOutcome = undefined | typeof SKIPPED | { error: unknown };

export interface WriteExecutor {
  /** Most jobs it holds at once (submitted, not reported). */
  readonly capacity: number;
  /** Whether it can run this job (the writer thread only reaches the shared arena). */
  accepts(job: WriteJob): boolean;
  /** Queues a job; jobs run in submission order and are reported in that order. */
  submit(job: WriteJob): void;
  /** Jobs of epochs up to this one are skipped (a failure was reported; the loop repairs). */
  failEpoch(epoch: number): void;
  stop(): Promise<void>;
}

export type ReportJob = (seq: number, outcome: JobOutcome) => void;

/** Copies the head bytes a chunk starts with (its first block's earlier bytes) if the job says so. */
export function copyHead(job: WriteJob): void {
  if (!job.headSrc || job.headLen === 0) return;
  const src = job.headSrc;
  const at = job.chunk.start - src.start;
  src.buf.copy(job.chunk.buf, 0, at, at + job.headLen);
}

function writeAll(fd: number, buf: Buffer, off: number, len: number, pos: number): void {
  while (len > 0) {
    const n = writeSync(fd, buf, off, len, pos);
    if (n <= 0) throw Object.assign(new Error(`write returned ${n}`), { code: 'EIO' });
    off += n;
    len -= n;
    pos += n;
  }
}

/**
 * Seals and writes a job right here with blocking node:fs calls (a small job while nothing else is
 * in flight: write-loop.ts). A direct-I/O job keeps its shape, the whole blocks plus the
 * zero-padded copy of the last partial block (`scratch`) in one pwritev, but goes through the page
 * cache: an O_DIRECT write waits for the device (4 KiB: p50 0.07 ms, p99.9 0.4-1.2 ms at 5,000
 * writes a second here) and blocked the event loop that long, while a page-cache write of whole
 * blocks takes microseconds and never has to read a page first. The next direct write of that
 * block makes the kernel write the cached page back and drop it first, so the two never disagree.
 */
export function writeJobNow(
  job: WriteJob,
  appendCrc: boolean,
  scratch: Buffer,
  x2n: Uint32Array,
  ops: Map<number, number>,
): void {
  const c = job.chunk;
  copyHead(job);
  if (!job.raw) {
    const end = sealRecords(c.buf, job.from, job.to, appendCrc, crc32, x2n, ops);
    if (end !== job.to) throw new Error(`staged records end at ${end}, not ${job.to}`);
  }
  const fd = job.file.fd;
  const rel = c.start - job.file.fileFromOffset;
  if (!job.direct) {
    writeAll(fd, c.buf, job.from, job.to - job.from, rel + job.from);
    return;
  }
  const a = job.from - (job.from % BLOCK);
  const tail = (job.to - a) % BLOCK;
  const whole = job.to - tail;
  if (tail === 0) {
    writeAll(fd, c.buf, a, whole - a, rel + a);
    return;
  }
  c.buf.copy(scratch, 0, whole, job.to);
  scratch.fill(0, tail, BLOCK);
  const pad = scratch.subarray(0, BLOCK);
  if (whole === a) {
    writeAll(fd, pad, 0, BLOCK, rel + a);
    return;
  }
  const n = writevSync(fd, [c.buf.subarray(a, whole), pad], rel + a);
  if (n < whole - a) {
    writeAll(fd, c.buf, a + n, whole - a - n, rel + a + n);
    writeAll(fd, pad, 0, BLOCK, rel + whole);
  } else if (n < whole - a + BLOCK) {
    writeAll(fd, pad, n - (whole - a), BLOCK - (n - (whole - a)), rel + a + n);
  }
}

/**
 * Runs jobs on the event loop, one at a time: seals in place, then writes through the StoreFs
 * (fault injection in tests goes through here). Direct writes go out as the chunk's whole blocks
 * and the zero-padded copy of the last partial block, in two writes that do not overlap.
 */
export class InlineExecutor implements WriteExecutor {
  readonly capacity = 1 << 30;
  private readonly queue: WriteJob[] = [];
  private running = false;
  private failedEpoch = -1;
  private readonly x2n = crcShiftTable();
  private readonly ops = new Map<number, number>();

  constructor(
    private readonly appendCrc: boolean,
    /** A page-aligned block of scratch memory (direct writes of a partial last block). */
    private readonly scratch: Buffer,
    private readonly report: ReportJob,
  ) {}

  accepts(): boolean {
    return true;
  }

  submit(job: WriteJob): void {
    this.queue.push(job);
    if (!this.running) void this.run();
  }

  failEpoch(epoch: number): void {
    if (epoch > this.failedEpoch) this.failedEpoch = epoch;
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      for (let job = this.queue.shift(); job; job = this.queue.shift()) {
        if (job.epoch <= this.failedEpoch) {
          this.report(job.seq, SKIPPED);
          continue;
        }
        try {
          await this.execute(job);
        } catch (error) {
          this.failedEpoch = Math.max(this.failedEpoch, job.epoch);
          this.report(job.seq, { error });
          continue;
        }
        this.report(job.seq, undefined);
      }
    } finally {
      this.running = false;
    }
  }

  private async execute(job: WriteJob): Promise<void> {
    const c = job.chunk;
    copyHead(job);
    if (!job.raw) {
      const end = sealRecords(c.buf, job.from, job.to, this.appendCrc, crc32, this.x2n, this.ops);
      if (end !== job.to) throw new Error(`staged records end at ${end}, not ${job.to}`);
    }
    const rel = c.start - job.file.fileFromOffset;
    if (!job.direct) {
      await job.file.write(c.buf, job.from, job.to - job.from, rel + job.from);
      return;
    }
    const a = job.from - (job.from % BLOCK);
    const tail = (job.to - a) % BLOCK;
    const whole = job.to - tail;
    const writes: Promise<void>[] = [];
    if (whole > a) writes.push(job.file.writeDirect(c.buf, a, whole - a, rel + a, rel + whole));
    if (tail > 0) {
      c.buf.copy(this.scratch, 0, whole, job.to);
      this.scratch.fill(0, tail, BLOCK);
      writes.push(job.file.writeDirect(this.scratch, 0, BLOCK, rel + whole, rel + job.to));
    }
    // Both settle before the job is reported (a failed one leaves the other's bytes to the repair).
    const results = await Promise.allSettled(writes);
    for (const r of results) if (r.status === 'rejected') throw r.reason;
  }

  async stop(): Promise<void> {
    while (this.running) await new Promise((r) => setImmediate(r));
  }
}
