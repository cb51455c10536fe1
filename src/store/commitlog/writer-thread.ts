/**
 * The CommitLog's writer thread: a worker that seals staged records (their two CRCs) and writes
 * them to the segment files, job by job in submission order (write-job.ts), then tells the event
 * loop how far it got. The event loop only encodes records and cuts jobs: CRC32 and the write
 * system calls were a third of its time per put, and a write issued from the event loop had to wait
 * until the loop was free again to be issued or completed, so a burst of requests held back the
 * acknowledgements of the first ones. Here a job is taken as soon as it is submitted and, under
 * load, jobs queued meanwhile are merged into one write.
 *
 * Hand-over through shared memory, not postMessage (a worker's port lock can stall the event loop
 * for milliseconds on a busy two-core machine): jobs go into a ring of Float64 slots, SUBMITTED is
 * bumped and the worker woken with Atomics.notify if it sleeps. Completions come back by
 * postMessage (the event loop must be woken): the sequence number every job up to which is
 * written, or an error for the first job of a failed write (the jobs after it in its epoch are then
 * skipped and reported as such; the write loop repairs and starts a new epoch).
 *
 * Group commit: while the event loop asks for it (SYNC_WANTED: durability waiters exist and the
 * thread had nothing else queued), a round (the jobs submitted when the worker looked) ends with
 * an fdatasync of every file it wrote, and its jobs are reported only after it, with SYNCED set
 * to the round's last job; the flush service releases the waiters from that report.
 *
 * Direct I/O: a job writes from the block boundary before its first byte (that block's earlier
 * bytes are in the chunk: staging.ts) to its end, the last partial block through a zero-padded
 * copy in the worker's scratch block, so the chunk is never padded while appends go on. The
 * worker is unref'd while idle, so a store nobody closed does not keep the process alive.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../common/logger.js';
import { crcShiftTable, sealRecords } from './record-seal.js';
import { BLOCK, type Staging } from './staging.js';
import { SKIPPED, type ReportJob, type WriteExecutor, type WriteJob } from './write-job.js';

/** Control words: jobs submitted (seq of the last), worker asleep, stop request, ... */
const SUBMITTED = 0;
const SLEEPING = 1;
const STOP = 2;
const FAILED_EPOCH = 3;
/** Every job up to this seq is written (the event loop may look before the message comes). */
const DONE = 4;
/** 1: fdatasync the files written at the end of each round (see the file comment). */
const SYNC_WANTED = 5;
/** The last job of the last round fdatasynced (its file, and every file written in that round). */
const SYNCED = 6;
/** Job slot fields (Float64): */
const FD = 0;
const FILE_POS = 1; // file position of WRITE_FROM
const WRITE_FROM = 2; // arena offset the write starts at (block-aligned when direct)
const SEAL_FROM = 3; // arena offset of the job's first new byte (a record start)
const SEAL_TO = 4; // arena offset one past its last record
const FLAGS = 5; // 1: direct, 2: raw (already sealed)
const HEAD_SRC = 6; // arena offset to copy the chunk's head bytes from
const HEAD_DST = 7;
const HEAD_LEN = 8;
const EPOCH = 9;
const FIELDS = 10;
/** Jobs in the ring at most. */
export const RING = 256;

// The worker's program. Plain JavaScript in a string (a transpiled function's source may refer to
// helpers the worker does not have); sealRecords and crcShiftTable are self-contained on purpose.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { crc32 } = require('node:zlib');
const sealRecords = (${sealRecords.toString()});
const crcShiftTable = (${crcShiftTable.toString()});
const arena = Buffer.from(workerData.arena);
const scratch = Buffer.from(workerData.scratch).subarray(0, ${BLOCK});
const ctrl = new Int32Array(workerData.ctrl);
const jobs = new Float64Array(workerData.jobs);
const appendCrc = workerData.appendCrc;
const x2n = crcShiftTable();
const ops = new Map();
function writeAll(fd, buf, off, len, pos) {
  while (len > 0) {
    const n = fs.writeSync(fd, buf, off, len, pos);
    if (n <= 0) throw Object.assign(new Error('write returned ' + n), { code: 'EIO' });
    off += n; len -= n; pos += n;
  }
}
let next = 1;
// Jobs written this round but not reported yet, because the round ends with an fdatasync.
let pendingLast = 0;
const dirty = new Set();
function finishRound() {
  if (pendingLast === 0) return;
  try {
    for (const fd of dirty) fs.fdatasyncSync(fd);
    Atomics.store(ctrl, ${SYNCED}, pendingLast);
  } catch (err) {
    parentPort.postMessage({ syncFailed: true, seq: pendingLast, code: err && err.code, message: String(err && err.message || err) });
  }
  Atomics.store(ctrl, ${DONE}, pendingLast);
  parentPort.postMessage(pendingLast);
  dirty.clear();
  pendingLast = 0;
}
for (;;) {
  let sub = Atomics.load(ctrl, ${SUBMITTED});
  if (sub < next) {
    Atomics.store(ctrl, ${SLEEPING}, 1);
    sub = Atomics.load(ctrl, ${SUBMITTED});
    if (sub < next && !Atomics.load(ctrl, ${STOP})) Atomics.wait(ctrl, ${SUBMITTED}, sub);
    Atomics.store(ctrl, ${SLEEPING}, 0);
    if (Atomics.load(ctrl, ${STOP})) break;
    continue;
  }
  while (next <= sub) {
    const b = (next % ${RING}) * ${FIELDS};
    const epoch = jobs[b + ${EPOCH}];
    if (epoch <= Atomics.load(ctrl, ${FAILED_EPOCH})) {
      finishRound();
      parentPort.postMessage(-next);
      next++;
      continue;
    }
    const syncing = pendingLast > 0 || Atomics.load(ctrl, ${SYNC_WANTED}) === 1;
    const fd = jobs[b + ${FD}], flags = jobs[b + ${FLAGS}];
    const writeFrom = jobs[b + ${WRITE_FROM}], sealFrom = jobs[b + ${SEAL_FROM}], pos = jobs[b + ${FILE_POS}];
    let end = jobs[b + ${SEAL_TO}];
    let last = next;
    // Jobs queued behind it that continue it in the same file and memory become one write.
    while (last < sub) {
      const n = ((last + 1) % ${RING}) * ${FIELDS};
      if (jobs[n + ${FD}] !== fd || jobs[n + ${FLAGS}] !== flags || jobs[n + ${EPOCH}] !== epoch) break;
      if (jobs[n + ${HEAD_LEN}] > 0 || jobs[n + ${SEAL_FROM}] !== end) break;
      if (jobs[n + ${FILE_POS}] - jobs[n + ${WRITE_FROM}] !== pos - writeFrom) break;
      end = jobs[n + ${SEAL_TO}];
      last++;
    }
    try {
      const headLen = jobs[b + ${HEAD_LEN}];
      if (headLen > 0) arena.copy(arena, jobs[b + ${HEAD_DST}], jobs[b + ${HEAD_SRC}], jobs[b + ${HEAD_SRC}] + headLen);
      if (!(flags & 2)) {
        const sealed = sealRecords(arena, sealFrom, end, appendCrc, crc32, x2n, ops);
        if (sealed !== end) throw new Error('staged records end at ' + sealed + ', not ' + end);
      }
      if (!(flags & 1)) {
        writeAll(fd, arena, sealFrom, end - sealFrom, pos + (sealFrom - writeFrom));
      } else {
        const tail = (end - writeFrom) % ${BLOCK};
        const whole = end - tail;
        if (tail === 0) {
          writeAll(fd, arena, writeFrom, whole - writeFrom, pos);
        } else {
          arena.copy(scratch, 0, whole, end);
          scratch.fill(0, tail);
          if (whole > writeFrom) {
            const n = fs.writevSync(fd, [arena.subarray(writeFrom, whole), scratch], pos);
            if (n < whole - writeFrom) {
              writeAll(fd, arena, writeFrom + n, whole - writeFrom - n, pos + n);
              writeAll(fd, scratch, 0, ${BLOCK}, pos + whole - writeFrom);
            } else if (n < whole - writeFrom + ${BLOCK}) {
              const k = n - (whole - writeFrom);
              writeAll(fd, scratch, k, ${BLOCK} - k, pos + n);
            }
          } else {
            writeAll(fd, scratch, 0, ${BLOCK}, pos);
          }
        }
      }
    } catch (err) {
      finishRound();
      Atomics.store(ctrl, ${FAILED_EPOCH}, Math.max(epoch, Atomics.load(ctrl, ${FAILED_EPOCH})));
      parentPort.postMessage({ seq: next, code: err && err.code, message: String(err && err.message || err) });
      for (let k = next + 1; k <= last; k++) parentPort.postMessage(-k);
      next = last + 1;
      continue;
    }
    next = last + 1;
    if (syncing) {
      dirty.add(fd);
      pendingLast = last;
    } else {
      Atomics.store(ctrl, ${DONE}, last);
      parentPort.postMessage(last);
    }
  }
  finishRound();
}
`;

// lib ES2023 has no WebAssembly types; a page-aligned buffer is all that is needed.
declare const WebAssembly: {
  Memory: new (d: { initial: number; maximum: number; shared?: boolean }) => { buffer: SharedArrayBuffer };
};

/** What the writer thread tells besides job reports: its fdatasyncs (see SYNC_WANTED). */
export interface ThreadSyncHooks {
  /**
   * Every byte below `end` was written and then the file holding `end`'s job (`fileFrom`: its
   * first offset) was fdatasynced, with every other file written in that round; `ts` is the
   * store timestamp of the newest record below `end`.
   */
  synced(end: number, ts: number, fileFrom: number): void;
  syncFailed(err: Error): void;
}

type ThreadMessage = number | { seq: number; code?: string; message: string; syncFailed?: true };

export class WriterThread implements WriteExecutor {
  readonly capacity = RING - 1;
  private readonly worker: Worker;
  private readonly ctrl = new Int32Array(new SharedArrayBuffer(32));
  private readonly jobs = new Float64Array(new SharedArrayBuffer(RING * FIELDS * 8));
  /** The thread's own numbering of the jobs it got; loopSeq maps it back to the write loop's. */
  private submitted = 0;
  private reported = 0;
  private readonly loopSeq = new Float64Array(RING);
  /** Per job slot: its end offset, newest store timestamp and file start (for `synced`). */
  private readonly endOf = new Float64Array(RING);
  private readonly tsOf = new Float64Array(RING);
  private readonly fileOf = new Float64Array(RING);
  private syncedSeq = 0;
  private syncFlag = false;
  /** Reporting jobs of a round that ended with an fdatasync, `synced` not called yet. */
  private reportingSynced = false;
  private stopped = false;
  private lost = false;

  /** Starts the worker; throws when it cannot (the caller writes on the event loop then). */
  constructor(
    private readonly staging: Staging,
    appendCrc: boolean,
    private readonly report: ReportJob,
    private readonly hooks: ThreadSyncHooks,
    private readonly log: Logger,
  ) {
    Atomics.store(this.ctrl, FAILED_EPOCH, -1);
    const scratch = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer;
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        arena: staging.arena,
        scratch,
        ctrl: this.ctrl.buffer,
        jobs: this.jobs.buffer,
        appendCrc,
      },
    });
    this.worker.unref();
    this.worker.on('message', (m: ThreadMessage) => this.onMessage(m));
    this.worker.on('error', (err) => this.onLost(err));
    this.worker.on('exit', (code) => {
      if (!this.stopped) this.onLost(new Error(`writer thread exited with code ${code}`));
    });
  }

  /** Only chunks in the shared arena can be reached from the worker. */
  accepts(job: WriteJob): boolean {
    return !this.lost && this.staging.arenaOffset(job.chunk) >= 0 && job.file.fd >= 0;
  }

  submit(job: WriteJob): void {
    const seq = ++this.submitted;
    this.loopSeq[seq % RING] = job.seq;
    const c = job.chunk;
    const base = this.staging.arenaOffset(c);
    const rel = c.start - job.file.fileFromOffset;
    const from = job.direct ? job.from - (job.from % BLOCK) : job.from;
    const j = this.jobs;
    const b = (seq % RING) * FIELDS;
    j[b + FD] = job.direct ? job.file.directFd : job.file.fd;
    j[b + FILE_POS] = rel + from;
    j[b + WRITE_FROM] = base + from;
    j[b + SEAL_FROM] = base + job.from;
    j[b + SEAL_TO] = base + job.to;
    j[b + FLAGS] = (job.direct ? 1 : 0) | (job.raw ? 2 : 0);
    const src = job.headSrc;
    const srcBase = src ? this.staging.arenaOffset(src) : -1;
    j[b + HEAD_LEN] = src && srcBase >= 0 ? job.headLen : 0;
    j[b + HEAD_SRC] = src ? srcBase + (c.start - src.start) : 0;
    j[b + HEAD_DST] = base;
    j[b + EPOCH] = job.epoch;
    const slot = seq % RING;
    this.endOf[slot] = c.start + job.to;
    this.tsOf[slot] = job.ts;
    this.fileOf[slot] = job.file.fileFromOffset;
    if (this.submitted - this.reported === 1) this.worker.ref();
    Atomics.store(this.ctrl, SUBMITTED, seq);
    if (Atomics.load(this.ctrl, SLEEPING) === 1) Atomics.notify(this.ctrl, SUBMITTED);
  }

  /**
   * Whether the thread fdatasyncs what it wrote at the end of each round (durability waiters
   * exist). One sync per round of merged writes is the group commit, with no event-loop round
   * trip between a write and its fdatasync.
   */
  set syncWanted(on: boolean) {
    if (on === this.syncFlag) return;
    this.syncFlag = on;
    Atomics.store(this.ctrl, SYNC_WANTED, on ? 1 : 0);
  }

  /**
   * An fdatasync by the thread is coming for what was written so far: jobs are out while syncs
   * are wanted, or a synced round is being reported. A flush on the event loop now would repeat it.
   */
  get willSync(): boolean {
    return !this.lost && (this.reportingSynced || (this.syncFlag && this.submitted > this.reported));
  }

  failEpoch(epoch: number): void {
    if (epoch > Atomics.load(this.ctrl, FAILED_EPOCH)) Atomics.store(this.ctrl, FAILED_EPOCH, epoch);
  }

  /**
   * Reports the jobs written since the last report without waiting for the worker's message: the
   * write loop looks whenever it submits, so during a burst of requests (the event loop busy
   * reading them, messages queued behind) the first ones are acknowledged while the rest are read.
   */
  poll(): void {
    const done = Atomics.load(this.ctrl, DONE);
    if (done > this.reported) this.onMessage(done);
  }

  private onMessage(m: ThreadMessage): void {
    if (typeof m === 'number') {
      if (m < 0) {
        if (-m <= this.reported) return;
        this.reported = -m;
        this.report(this.loopSeq[-m % RING]!, SKIPPED);
      } else {
        const s = Atomics.load(this.ctrl, SYNCED);
        const synced = s > this.syncedSeq && s <= Math.max(m, this.reported);
        // Read before reporting: the slot is free for a new job once its own is reported.
        const i = s % RING;
        const end = this.endOf[i]!;
        const ts = this.tsOf[i]!;
        const fileFrom = this.fileOf[i]!;
        this.reportingSynced = synced;
        // Already reported when the event loop polled first.
        for (let q = this.reported + 1; q <= m; q++) {
          this.reported = q;
          this.report(this.loopSeq[q % RING]!, undefined);
        }
        this.reportingSynced = false;
        if (synced) {
          this.syncedSeq = s;
          this.hooks.synced(end, ts, fileFrom);
        }
      }
    } else if (m.syncFailed) {
      this.hooks.syncFailed(Object.assign(new Error(m.message), m.code ? { code: m.code } : {}));
    } else {
      this.reported = m.seq;
      const error = Object.assign(new Error(m.message), m.code ? { code: m.code } : {});
      this.report(this.loopSeq[m.seq % RING]!, { error });
    }
    if (this.reported === this.submitted) this.worker.unref();
  }

  /** The worker died: every job it still held failed (the write loop repairs and goes inline). */
  private onLost(err: unknown): void {
    if (this.lost) return;
    this.lost = true;
    this.log.error({ err }, 'CommitLog writer thread lost; writing on the event loop from now on');
    const error = err instanceof Error ? err : new Error(String(err));
    const first = this.reported + 1;
    for (let s = first; s <= this.submitted; s++) {
      this.reported = s;
      this.report(this.loopSeq[s % RING]!, s === first ? { error } : SKIPPED);
    }
  }

  get alive(): boolean {
    return !this.lost;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    Atomics.store(this.ctrl, STOP, 1);
    Atomics.notify(this.ctrl, SUBMITTED);
    await this.worker.terminate();
  }
}
