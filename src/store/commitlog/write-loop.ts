/**
 * The CommitLog's write loop: cuts what was staged into write jobs (write-job.ts) and submits them
 * in offset order, as soon as the records are staged (a microtask after the appends of one turn),
 * to the writer thread (writer-thread.ts) or, without it, to the event-loop executor. Several jobs
 * may be in flight: the executor runs them one after another, so the next one is already queued
 * when a write completes, and the acknowledgements of a burst's first requests do not wait for its
 * last ones to be read. Jobs end on record boundaries; as each is reported written, in order,
 * the log's writtenOffset advances to its end (CommitLog.advance): the flusher, the checkpoint,
 * readers and recovery all start from it.
 *
 * Before a job reaches a file the loop makes sure the file is open (its O_DIRECT descriptor too)
 * and that no preallocation write overlaps it (beforeWrite); nothing yields between reading a
 * chunk's bounds and submitting, so a job covers exactly the records staged at that moment.
 *
 * A failed write (ENOSPC, EIO): the executor skips the rest of that epoch's jobs; once all are
 * reported the owner repairs (fails the puts past writtenOffset, zeroes what reached the file) and
 * a new epoch starts.
 */
import type { Logger } from '../../common/logger.js';
import type { MappedFile } from '../mapped-file.js';
import { BLOCK, type Chunk, type Staging } from './staging.js';
import { crc32 } from 'node:zlib';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { crcShiftTable, sealRecords } from './record-seal.js';
import {
  InlineExecutor,
  SKIPPED,
  writeJobNow,
  type JobOutcome,
  type WriteExecutor,
  type WriteJob,
} from './write-job.js';
import { WriterThread, type ThreadSyncHooks } from './writer-thread.js';

export interface WriteLoopOwner {
  readonly writtenOffset: number;
  readonly writable: boolean;
  /** Every byte below `offset` (a record boundary) is in the kernel. */
  advance(offset: number, storeTs: number): void;
  onWriteError(err: unknown): Promise<void>;
  beforeWrite: ((file: MappedFile, from: number, to: number) => Promise<void> | undefined) | undefined;
  /** Told of the writer thread's fdatasyncs (looked up when one is reported). */
  readonly threadSync: ThreadSyncHooks | undefined;
}

/** A job this small, with nothing else in flight, is written at once on the event loop... */
const NOW_MAX_BYTES = 32 * 1024;
/** ...as long as such blocking writes took under this share of the recent past (plus a burst). */
const NOW_SHARE = 0.1;
const NOW_BURST_MS = 4;
/**
 * A job for the writer thread is sealed here when the thread already has work queued and the
 * event loop was busy less than this share of the last ELU_WINDOW_MS. The thread seals and then
 * writes, one after the other, so while it is the bottleneck the device waits a third of the time
 * for CRC32 (4 KiB appends: 705-725 MiB/s; 930-980 with no sealing at all); appending 4 KiB
 * records leaves the loop two thirds idle. Under small-message load the loop is the bottleneck
 * and stays above the share, so the thread keeps sealing. Not under SYNC_FLUSH (`sealOnIdleLoop`
 * off): there the loop waits on fdatasync rounds it drives itself, and time spent sealing delayed
 * them (e2e A2: 103-130k msgs/s against 134-139k without).
 */
const SEAL_HERE_BELOW = 0.8;
const ELU_WINDOW_MS = 50;

// lib ES2023 has no WebAssembly types; a page-aligned buffer is all that is needed.
declare const WebAssembly: {
  Memory: new (d: { initial: number; maximum: number }) => { buffer: ArrayBuffer };
};

/** Pumps are queued behind it (see schedule). */
const RESOLVED = Promise.resolve();

export class WriteLoop {
  private readonly inline: InlineExecutor;
  private thread: WriterThread | undefined;
  /** Whether the writer thread may still be started (at store start, else at the first job; once). */
  private mayStartThread: boolean;
  /** Submitted, not yet reported, in order. */
  private readonly inflight: { job: WriteJob; exec: WriteExecutor }[] = [];
  private seq = 0;
  private epoch = 0;
  private scheduled = false;
  /** Waiting for a file to open or a preallocation write to finish. */
  private waiting = false;
  private failure: unknown;
  private repairing: Promise<void> | undefined;
  private idleWaiters: (() => void)[] = [];
  private readonly scratch: Buffer;
  private readonly x2n = crcShiftTable();
  private readonly ops = new Map<number, number>();
  /** Event-loop utilization at the start of the current window, and whether the last had spare time. */
  private elu: EventLoopUtilization = performance.eventLoopUtilization();
  private eluAt = 0;
  private spareLoop = false;
  /** Jobs for the writer thread sealed on the event loop (SEAL_HERE_BELOW), and whether allowed. */
  sealedHere = 0;
  sealOnIdleLoop = true;
  private syncWanted = false;
  /** Event-loop time spent in blocking writes not yet paid back (see NOW_SHARE), and when. */
  private nowDebtMs = 0;
  private nowAt = 0;

  constructor(
    private readonly owner: WriteLoopOwner,
    readonly staging: Staging,
    private readonly appendCrc: boolean,
    writerThread: boolean,
    /** The files may be written with node:fs directly (no injected StoreFs). */
    private readonly nodeFs: boolean,
    private readonly log: Logger,
  ) {
    this.scratch = Buffer.from(new WebAssembly.Memory({ initial: 1, maximum: 1 }).buffer, 0, BLOCK);
    this.inline = new InlineExecutor(appendCrc, this.scratch, (seq, o) => this.onReported(seq, o));
    this.mayStartThread = writerThread && nodeFs;
  }

  /** Something was staged: submit it once the current callback's appends are done. */
  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // Not queueMicrotask: that wraps each callback in an AsyncResource (~100 ns more a call, and
    // its destroy hook showed in broker profiles).
    void RESOLVED.then(this.pump);
  }

  /** Resolves when no job is in flight (before staged chunks are dropped or the loop stops). */
  idle(): Promise<void> {
    if (this.inflight.length === 0 && !this.repairing) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    await this.idle();
    this.mayStartThread = false;
    await this.thread?.stop();
    await this.inline.stop();
  }

  /**
   * Starts the writer thread now rather than at the first write: booting a worker takes tens of
   * milliseconds here, which the first puts after a start would otherwise wait for.
   */
  startThread(): void {
    if (!this.thread && this.mayStartThread) {
      this.mayStartThread = false;
      try {
        this.thread = new WriterThread(
          this.staging,
          this.appendCrc,
          (s, o) => this.onReported(s, o),
          {
            synced: (end, ts, fileFrom) => this.owner.threadSync?.synced(end, ts, fileFrom),
            syncFailed: (err) => this.owner.threadSync?.syncFailed(err),
          },
          this.log,
        );
      } catch (err) {
        this.log.warn(
          { err },
          'no writer thread; CommitLog records are sealed and written on the event loop',
        );
      }
    }
  }

  get threadStarted(): boolean {
    return this.thread !== undefined;
  }

  /**
   * Durability waiters exist. A job submitted to an otherwise idle writer thread asks it to end
   * its round with an fdatasync (no event-loop round trip between the write and the sync); with
   * jobs queued behind, the event loop flushes on the thread pool instead, so a sync overlaps the
   * thread's next writes. Store bench, 256 puts in flight: 143-185k msgs/s with the thread
   * syncing every round, against 164-189k for loop flushes; gated, on par (156-183k / 169-180k).
   */
  set threadSyncWanted(on: boolean) {
    this.syncWanted = on;
    if (this.thread && !on) this.thread.syncWanted = false;
  }

  /** The writer thread will fdatasync what is written so far (writer-thread.ts willSync). */
  get threadWillSync(): boolean {
    return this.thread?.willSync ?? false;
  }

  private executorFor(job: WriteJob): WriteExecutor {
    this.startThread();
    const t = this.thread;
    return t?.alive && t.accepts(job) ? t : this.inline;
  }

  private readonly pump = (): void => {
    this.scheduled = false;
    // Writes finished meanwhile are acknowledged now, not when the loop gets to their message.
    this.thread?.poll();
    if (this.waiting || this.failure !== undefined || this.repairing) return;
    const st = this.staging;
    const o = this.owner;
    // Chunks closed and completely written: hand their tail block on, keep them for reads.
    for (let c = st.chunks[0]; c && c.sealed && c.written === c.used; c = st.chunks[0]) {
      st.completeHead();
      if (c.end > o.writtenOffset) o.advance(c.end, c.lastStoreTs);
    }
    if (!o.writable) return;
    // A job written right here (writeNow) can complete the head chunk, which leaves st.chunks: walk
    // a copy, or the chunk after it is skipped and a later one written first (its block overwritten
    // later by the skipped chunk's zero-padded tail, and writtenOffset moved past unwritten bytes).
    for (const c of st.chunks.length > 1 ? st.chunks.slice() : st.chunks) {
      if (c.issued === c.used) {
        if (c.sealed) continue;
        break;
      }
      if (!this.submit(c)) return;
      if (!c.sealed) break;
    }
  };

  /** Submits chunk `c`'s staged records as one job; false when it has to wait (and will pump again). */
  private submit(c: Chunk): boolean {
    const file = c.file;
    if (file.fd < 0 && file.openError === undefined) return this.waitFor(file.ready);
    const aligned = this.staging.isAligned(c);
    if (aligned && file.directOpened === undefined) return this.waitFor(file.openDirect());
    const rel = c.start - file.fileFromOffset;
    const gate = this.owner.beforeWrite?.(file, rel + c.issued, rel + c.used + BLOCK);
    if (gate) return this.waitFor(gate);
    const job: WriteJob = {
      seq: 0,
      chunk: c,
      file,
      from: c.issued,
      to: c.used,
      direct: aligned && file.directOpened === true,
      raw: c.raw,
      headSrc: undefined,
      headLen: 0,
      ts: c.lastStoreTs,
      epoch: this.epoch,
    };
    if (c.headPending > 0 && !c.headCopying && c.issued === c.headPending) {
      job.headSrc = c.headFrom;
      job.headLen = c.headPending;
    }
    if (
      this.inflight.length === 0 &&
      job.to - job.from <= NOW_MAX_BYTES &&
      this.nodeFs &&
      this.mayWriteNow()
    ) {
      this.writeNow(job);
      return true;
    }
    const exec = this.executorFor(job);
    const last = this.inflight[this.inflight.length - 1];
    // One executor at a time keeps the order (and two writes of one block never overlap).
    if (last && last.exec !== exec) return false;
    if (this.inflight.length >= exec.capacity) return false;
    if (job.headSrc && exec === this.thread && this.staging.arenaOffset(job.headSrc) < 0) {
      // A one-off buffer is out of the worker's reach; it is completely written (the event loop
      // ran its jobs, and executors only change when idle), so its bytes are final.
      const src = job.headSrc;
      src.buf.copy(c.buf, 0, c.start - src.start, c.start - src.start + job.headLen);
      c.headPending = 0;
      c.headFrom = undefined;
      job.headSrc = undefined;
      job.headLen = 0;
    }
    if (job.headSrc) c.headCopying = true;
    if (
      this.sealOnIdleLoop &&
      exec === this.thread &&
      !job.raw &&
      this.inflight.length > 0 &&
      this.loopHasSpareTime()
    ) {
      // Sealed here (see SEAL_HERE_BELOW); on a mismatch the thread seals and reports it.
      const sealed = sealRecords(
        c.buf,
        job.from,
        job.to,
        this.appendCrc,
        crc32,
        this.x2n,
        this.ops,
        this.staging.sealScratch,
      );
      if (sealed === job.to) {
        job.raw = true;
        this.sealedHere++;
      }
    }
    job.seq = ++this.seq;
    c.issued = c.used;
    this.inflight.push({ job, exec });
    // The thread fdatasyncs its rounds only when it has nothing else queued (see threadSyncWanted).
    if (exec === this.thread) this.thread.syncWanted = this.syncWanted && this.inflight.length <= 1;
    exec.submit(job);
    return true;
  }

  /**
   * Low load (a few records, nothing in flight): written right here with a blocking call. A
   * hand-over to the writer thread and back costs two thread wake-ups, whose tails reach
   * milliseconds on a busy two-core machine; a small write takes ~0.1 ms. The time such writes
   * take is rationed (NOW_SHARE), so under load the writer thread takes over.
   */
  private mayWriteNow(): boolean {
    const t = performance.now();
    this.nowDebtMs = Math.max(0, this.nowDebtMs - (t - this.nowAt) * NOW_SHARE);
    this.nowAt = t;
    return this.nowDebtMs < NOW_BURST_MS;
  }

  private loopHasSpareTime(): boolean {
    const now = performance.now();
    if (now - this.eluAt >= ELU_WINDOW_MS) {
      const cur = performance.eventLoopUtilization();
      this.spareLoop = performance.eventLoopUtilization(cur, this.elu).utilization < SEAL_HERE_BELOW;
      this.elu = cur;
      this.eluAt = now;
    }
    return this.spareLoop;
  }

  private writeNow(job: WriteJob): void {
    const c = job.chunk;
    if (c.headPending > 0 && job.headSrc) c.headCopying = true;
    job.seq = ++this.seq;
    c.issued = c.used;
    this.inflight.push({ job, exec: this.inline });
    const t = performance.now();
    let outcome: JobOutcome;
    try {
      writeJobNow(job, this.appendCrc, this.scratch, this.x2n, this.ops);
    } catch (error) {
      outcome = { error };
    }
    const end = performance.now();
    this.nowDebtMs += end - t;
    this.nowAt = end;
    this.onReported(job.seq, outcome);
  }

  private waitFor(p: Promise<unknown>): false {
    this.waiting = true;
    const resume = (): void => {
      this.waiting = false;
      this.schedule();
    };
    p.then(resume, resume);
    return false;
  }

  private onReported(seq: number, outcome: JobOutcome): void {
    const head = this.inflight[0];
    if (!head || head.job.seq !== seq) {
      this.log.error({ seq, expected: head?.job.seq }, 'CommitLog write reported out of order');
      return;
    }
    this.inflight.shift();
    const job = head.job;
    const c = job.chunk;
    if (outcome === undefined && this.failure === undefined) {
      c.written = job.to;
      c.crcTo = job.to;
      if (job.headSrc) {
        c.headPending = 0;
        c.headFrom = undefined;
        c.headCopying = false;
      }
      const rel = c.start - job.file.fileFromOffset;
      job.file.noteWritten(rel + job.to);
      const st = this.staging;
      if (c.sealed && c.written === c.used && st.chunks[0] === c) {
        st.completeHead();
        if (c.end > this.owner.writtenOffset) this.owner.advance(c.end, job.ts);
      } else if (c.start + job.to > this.owner.writtenOffset) {
        this.owner.advance(c.start + job.to, job.ts);
      }
      this.schedule();
    } else if (outcome !== SKIPPED && outcome !== undefined && this.failure === undefined) {
      this.failure = outcome.error;
      this.thread?.failEpoch(this.epoch);
      this.inline.failEpoch(this.epoch);
    }
    if (this.inflight.length === 0) {
      if (this.failure !== undefined) this.repair();
      else this.wakeIdle();
    }
  }

  /** Every job of the failed epoch is reported: the owner repairs, then a new epoch starts. */
  private repair(): void {
    const err = this.failure;
    this.repairing = this.owner
      .onWriteError(err)
      .catch((e: unknown) => this.log.error({ err: e }, 'CommitLog repair threw'))
      .finally(() => {
        this.epoch++;
        this.failure = undefined;
        this.repairing = undefined;
        this.wakeIdle();
        if (this.staging.chunks.length > 0) this.schedule();
      });
  }

  private wakeIdle(): void {
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const r of w) r();
  }
}
