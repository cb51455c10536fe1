/**
 * Puts waiting for the CommitLog to reach an offset (written to the kernel, or covered by an
 * fdatasync), in the order they were appended, so their end offsets never decrease. Kept as
 * parallel arrays with a moving head: a waiting put costs its promise's resolve function and its
 * AppendResult, nothing more (no per-put closure chain, no waiter object).
 *
 * A waiter carries either an AppendResult (a put: resolved with a PutMessageResult built by the
 * owner) or `undefined` (an internal wait: resolved with true/false).
 */
import type { AppendResult } from '../append-result.js';

type Resolve = (v: never) => void;

export class WaiterQueue {
  private ends: number[] = [];
  private deadlines: number[] = [];
  private fns: Resolve[] = [];
  private vals: (AppendResult | undefined)[] = [];
  private head = 0;

  get size(): number {
    return this.ends.length - this.head;
  }

  push(end: number, resolve: Resolve, val: AppendResult | undefined, deadline = 0): void {
    this.ends.push(end);
    this.fns.push(resolve);
    this.vals.push(val);
    this.deadlines.push(deadline);
  }

  /** Resolves, oldest first, every waiter whose end is <= `offset` with `value(val)`. */
  releaseUpTo(offset: number, value: (val: AppendResult | undefined) => unknown): void {
    let h = this.head;
    const ends = this.ends;
    while (h < ends.length && ends[h]! <= offset) {
      (this.fns[h] as (v: unknown) => void)(value(this.vals[h]));
      h++;
    }
    this.advance(h);
  }

  /** Resolves, oldest first, every waiter whose deadline has passed with `value(val)`. */
  expire(now: number, value: (val: AppendResult | undefined) => unknown): void {
    let h = this.head;
    while (h < this.ends.length && this.deadlines[h]! <= now) {
      (this.fns[h] as (v: unknown) => void)(value(this.vals[h]));
      h++;
    }
    this.advance(h);
  }

  /** Resolves every waiter whose end is > `offset` (their bytes are gone) with `value(val)`. */
  failAfter(offset: number, value: (val: AppendResult | undefined) => unknown): void {
    const ends = this.ends;
    let cut = ends.length;
    while (cut > this.head && ends[cut - 1]! > offset) cut--;
    for (let i = cut; i < ends.length; i++) (this.fns[i] as (v: unknown) => void)(value(this.vals[i]));
    ends.length = cut;
    this.fns.length = cut;
    this.vals.length = cut;
    this.deadlines.length = cut;
    this.advance(this.head);
  }

  private advance(h: number): void {
    if (h === this.ends.length) {
      if (h > 0) {
        this.ends = [];
        this.fns = [];
        this.vals = [];
        this.deadlines = [];
      }
      this.head = 0;
    } else if (h > 4096 && h * 2 > this.ends.length) {
      this.ends = this.ends.slice(h);
      this.fns = this.fns.slice(h);
      this.vals = this.vals.slice(h);
      this.deadlines = this.deadlines.slice(h);
      this.head = 0;
    } else {
      this.head = h;
    }
  }
}
