/**
 * Puts waiting for the CommitLog to reach an offset (written to the kernel, or covered by an
 * fdatasync), in the order they were appended, so their end offsets never decrease. Kept in
 * rings of parallel arrays: a waiting single-message put costs its promise's resolve function and
 * nothing else (no per-put closure chain, no waiter object), and releasing waiters copies nothing
 * (the arrays with a moving head this replaced were sliced every 4096 releases).
 *
 * A waiter carries a put's result or nothing (an internal wait: resolved with true/false). The
 * result of a single message is kept as numbers and its AppendResult made only when the waiter is
 * resolved: an object per put held for the tens of milliseconds a write takes under load outlived
 * two scavenges, so V8 promoted every in-flight put's result to the old space, where it died
 * (~1 MB per scavenge with 8k puts in flight, and tens of MiB of old space before a mark-compact).
 * A batch's AppendResult (one per batch, with its offsets array) is kept as it is.
 */
import { AppendResult } from '../append-result.js';

type Resolve = (v: never) => void;

const INITIAL = 1024;

export class WaiterQueue {
  private ends = new Float64Array(INITIAL);
  private deadlines = new Float64Array(INITIAL);
  private fns: (Resolve | undefined)[] = new Array<Resolve | undefined>(INITIAL).fill(undefined);
  private vals: (AppendResult | undefined)[] = new Array<AppendResult | undefined>(INITIAL).fill(undefined);
  /** A single put's result fields; `bytes` 0 when the waiter has none (vals or internal). */
  private wrote = new Float64Array(INITIAL);
  private bytes = new Int32Array(INITIAL);
  private queueOffsets = new Float64Array(INITIAL);
  private storeTs = new Float64Array(INITIAL);
  /** Store host of the single puts' results (one per store). */
  private host: Buffer | undefined;
  private mask = INITIAL - 1;
  /** Monotonic positions; slot = position & mask. */
  private head = 0;
  private tail = 0;

  get size(): number {
    return this.tail - this.head;
  }

  push(end: number, resolve: Resolve, val: AppendResult | undefined, deadline = 0): void {
    if (this.tail - this.head > this.mask) this.grow();
    const i = this.tail++ & this.mask;
    this.ends[i] = end;
    this.deadlines[i] = deadline;
    this.fns[i] = resolve;
    this.vals[i] = val;
    this.bytes[i] = 0;
  }

  /** A single message's put: its AppendResult is made when it is resolved. */
  pushOne(
    end: number,
    resolve: Resolve,
    host: Buffer,
    wroteOffset: number,
    wroteBytes: number,
    queueOffset: number,
    storeTimestamp: number,
    deadline = 0,
  ): void {
    this.push(end, resolve, undefined, deadline);
    const i = (this.tail - 1) & this.mask;
    this.host = host;
    this.wrote[i] = wroteOffset;
    this.bytes[i] = wroteBytes;
    this.queueOffsets[i] = queueOffset;
    this.storeTs[i] = storeTimestamp;
  }

  /** Takes slot i's waiter out: its resolve function and its result, if any. */
  private take(i: number): AppendResult | undefined {
    const v = this.vals[i];
    this.fns[i] = undefined;
    this.vals[i] = undefined;
    const n = this.bytes[i]!;
    if (n === 0) return v;
    return new AppendResult(this.host!, this.wrote[i]!, n, this.queueOffsets[i]!, this.storeTs[i]!, 1);
  }

  /** Resolves, oldest first, every waiter whose end is <= `offset` with `value(val)`. */
  releaseUpTo(offset: number, value: (val: AppendResult | undefined) => unknown): void {
    const ends = this.ends;
    while (this.head < this.tail && ends[this.head & this.mask]! <= offset) this.resolveHead(value);
  }

  /** Resolves, oldest first, every waiter whose deadline has passed with `value(val)`. */
  expire(now: number, value: (val: AppendResult | undefined) => unknown): void {
    const deadlines = this.deadlines;
    while (this.head < this.tail && deadlines[this.head & this.mask]! <= now) this.resolveHead(value);
  }

  /** Resolves every waiter whose end is > `offset` (their bytes are gone) with `value(val)`. */
  failAfter(offset: number, value: (val: AppendResult | undefined) => unknown): void {
    let cut = this.tail;
    while (cut > this.head && this.ends[(cut - 1) & this.mask]! > offset) cut--;
    const gone = this.tail;
    this.tail = cut;
    for (let n = cut; n < gone; n++) {
      const i = n & this.mask;
      const fn = this.fns[i] as (v: unknown) => void;
      fn(value(this.take(i)));
    }
  }

  /** Takes the head waiter out before calling it: a resolver may push (never into its slot). */
  private resolveHead(value: (val: AppendResult | undefined) => unknown): void {
    const i = this.head++ & this.mask;
    const fn = this.fns[i] as (v: unknown) => void;
    fn(value(this.take(i)));
  }

  private grow(): void {
    const n = this.mask + 1;
    const ends = new Float64Array(n * 2);
    const deadlines = new Float64Array(n * 2);
    const fns = new Array<Resolve | undefined>(n * 2).fill(undefined);
    const vals = new Array<AppendResult | undefined>(n * 2).fill(undefined);
    const wrote = new Float64Array(n * 2);
    const bytes = new Int32Array(n * 2);
    const queueOffsets = new Float64Array(n * 2);
    const storeTs = new Float64Array(n * 2);
    for (let k = 0; k < n; k++) {
      const from = (this.head + k) & this.mask;
      ends[k] = this.ends[from]!;
      deadlines[k] = this.deadlines[from]!;
      fns[k] = this.fns[from];
      vals[k] = this.vals[from];
      wrote[k] = this.wrote[from]!;
      bytes[k] = this.bytes[from]!;
      queueOffsets[k] = this.queueOffsets[from]!;
      storeTs[k] = this.storeTs[from]!;
    }
    this.ends = ends;
    this.deadlines = deadlines;
    this.fns = fns;
    this.vals = vals;
    this.wrote = wrote;
    this.bytes = bytes;
    this.queueOffsets = queueOffsets;
    this.storeTs = storeTs;
    this.mask = n * 2 - 1;
    this.tail -= this.head;
    this.head = 0;
  }
}
