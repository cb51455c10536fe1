/**
 * Puts waiting for the CommitLog to reach an offset (written to the kernel, or covered by an
 * fdatasync), in the order they were appended, so their end offsets never decrease. Kept in
 * rings of parallel arrays: a waiting put costs its promise's resolve function and its
 * AppendResult, nothing more (no per-put closure chain, no waiter object), and releasing waiters
 * copies nothing (the arrays with a moving head this replaced were sliced every 4096 releases).
 *
 * A waiter carries either an AppendResult (a put: resolved with a PutMessageResult built by the
 * owner) or `undefined` (an internal wait: resolved with true/false).
 */
import type { AppendResult } from '../append-result.js';

type Resolve = (v: never) => void;

const INITIAL = 1024;

export class WaiterQueue {
  private ends = new Float64Array(INITIAL);
  private deadlines = new Float64Array(INITIAL);
  private fns: (Resolve | undefined)[] = new Array<Resolve | undefined>(INITIAL).fill(undefined);
  private vals: (AppendResult | undefined)[] = new Array<AppendResult | undefined>(INITIAL).fill(undefined);
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
      const val = this.vals[i];
      this.fns[i] = undefined;
      this.vals[i] = undefined;
      fn(value(val));
    }
  }

  /** Takes the head waiter out before calling it: a resolver may push (never into its slot). */
  private resolveHead(value: (val: AppendResult | undefined) => unknown): void {
    const i = this.head++ & this.mask;
    const fn = this.fns[i] as (v: unknown) => void;
    const val = this.vals[i];
    this.fns[i] = undefined;
    this.vals[i] = undefined;
    fn(value(val));
  }

  private grow(): void {
    const n = this.mask + 1;
    const ends = new Float64Array(n * 2);
    const deadlines = new Float64Array(n * 2);
    const fns = new Array<Resolve | undefined>(n * 2).fill(undefined);
    const vals = new Array<AppendResult | undefined>(n * 2).fill(undefined);
    for (let k = 0; k < n; k++) {
      const from = (this.head + k) & this.mask;
      ends[k] = this.ends[from]!;
      deadlines[k] = this.deadlines[from]!;
      fns[k] = this.fns[from];
      vals[k] = this.vals[from];
    }
    this.ends = ends;
    this.deadlines = deadlines;
    this.fns = fns;
    this.vals = vals;
    this.mask = n * 2 - 1;
    this.tail -= this.head;
    this.head = 0;
  }
}
