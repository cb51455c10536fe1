/**
 * Runs record sealing (record-seal.ts: the two CRCs of each record) on a worker thread, over the
 * staging arena it shares with the event loop. CRC32 is the largest CPU cost of a put; on two
 * cores moving it off the event loop lets encoding and hashing overlap.
 *
 * One job at a time: the CommitLog asks to seal a chunk's records [from, to) and gets back how
 * far they were sealed. Those bytes are past writtenOffset and staged (no append touches them
 * again), so the event loop never reads or writes them while the worker does. Small ranges are
 * sealed in place on the event loop, where the round trip would cost more than the CRCs (SYNC_FLUSH
 * with a few puts waiting). If the worker cannot start or dies, everything is sealed in place.
 *
 * The worker starts with the first large range and is unref'd while idle, so a store nobody
 * closed does not keep the process alive.
 */
import { Worker } from 'node:worker_threads';
import { crc32 } from 'node:zlib';
import type { Logger } from '../../common/logger.js';
import { crcShiftTable, sealRecords } from './record-seal.js';

/** Below this many bytes a range is sealed on the event loop (about 100 µs of CRC). */
export const INLINE_SEAL_BYTES = 256 * 1024;

/**
 * Jobs go to the worker through shared memory, not postMessage: [SEQ] job number, [FROM, TO] the
 * arena range. postMessage takes a lock on the worker's port that a descheduled worker can hold
 * for milliseconds on a busy two-core machine (measured: p90 2 ms per call); Atomics.notify never
 * blocks. The worker waits on SEQ, seals, and posts the result back (the event loop must be woken).
 */
const SEQ = 0;
const FROM = 1;
const TO = 2;

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { crc32 } = require('node:zlib');
const sealRecords = (${sealRecords.toString()});
const crcShiftTable = (${crcShiftTable.toString()});
const buf = Buffer.from(workerData.arena);
const ctrl = new Int32Array(workerData.ctrl);
const x2n = crcShiftTable();
const ops = new Map();
let seen = 0;
for (;;) {
  Atomics.wait(ctrl, ${SEQ}, seen);
  const seq = Atomics.load(ctrl, ${SEQ});
  if (seq === seen) continue;
  seen = seq;
  if (seq < 0) break;
  let to;
  try {
    to = sealRecords(buf, Atomics.load(ctrl, ${FROM}), Atomics.load(ctrl, ${TO}), workerData.appendCrc, crc32, x2n, ops);
  } catch (err) {
    to = -1;
  }
  parentPort.postMessage(to);
}
`;

export class CrcSealer {
  private worker: Worker | undefined;
  /** Whether a worker may still be started (first large range; never after it failed). */
  private mayStart: boolean;
  private waiting: ((to: number) => void) | undefined;
  private readonly buf: Buffer;
  private readonly ctrl = new Int32Array(new SharedArrayBuffer(16));
  private readonly x2n = crcShiftTable();
  private readonly ops = new Map<number, number>();

  constructor(
    private readonly arena: SharedArrayBuffer,
    private readonly appendCrc: boolean,
    useThread: boolean,
    private readonly log: Logger,
  ) {
    this.buf = Buffer.from(arena);
    this.mayStart = useThread;
  }

  private startWorker(): void {
    this.mayStart = false;
    try {
      const w = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { arena: this.arena, ctrl: this.ctrl.buffer, appendCrc: this.appendCrc },
      });
      w.unref();
      w.on('message', (to: number) => {
        const done = this.waiting;
        this.waiting = undefined;
        w.unref();
        done?.(to);
      });
      w.on('error', (err) => this.lost(err));
      w.on('exit', (code) => {
        if (this.worker === w) this.lost(new Error(`sealing worker exited with code ${code}`));
      });
      this.worker = w;
    } catch (err) {
      this.log.warn({ err }, 'no sealing worker; CRCs are computed on the event loop');
    }
  }

  private lost(err: unknown): void {
    if (!this.worker) return;
    this.worker = undefined;
    this.log.warn({ err }, 'sealing worker lost; CRCs are computed on the event loop from now on');
    const done = this.waiting;
    this.waiting = undefined;
    done?.(-1);
  }

  get busy(): boolean {
    return this.waiting !== undefined;
  }

  /** Seals arena bytes [from, to) on the event loop; returns how far. */
  sealInPlace(buf: Buffer, from: number, to: number): number {
    return sealRecords(buf, from, to, this.appendCrc, crc32, this.x2n, this.ops);
  }

  /**
   * Seals arena bytes [from, to): on the worker when there are many and it is free (resolves
   * with how far, -1 if the worker failed: seal in place then), else undefined (seal in place).
   */
  sealAsync(from: number, to: number): Promise<number> | undefined {
    if (this.waiting || to - from < INLINE_SEAL_BYTES) return undefined;
    if (!this.worker && this.mayStart) this.startWorker();
    const w = this.worker;
    if (!w) return undefined;
    return new Promise<number>((resolve) => {
      this.waiting = resolve;
      w.ref();
      Atomics.store(this.ctrl, FROM, from);
      Atomics.store(this.ctrl, TO, to);
      Atomics.add(this.ctrl, SEQ, 1);
      Atomics.notify(this.ctrl, SEQ);
    });
  }

  /** The arena as a Buffer (offsets are arena offsets). */
  get arenaBuffer(): Buffer {
    return this.buf;
  }

  async stop(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    this.mayStart = false;
    Atomics.store(this.ctrl, SEQ, -1);
    Atomics.notify(this.ctrl, SEQ);
    if (w) await w.terminate();
  }
}
