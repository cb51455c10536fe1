/**
 * The messages of one queue that were pulled but not yet consumed (upstream's ProcessQueue), and
 * from them the offset that may be committed: the lowest offset still unfinished, or one past the
 * highest pulled when all are done. A listener finishing message 7 before 5 therefore commits
 * nothing past 5 until 5 is done, so a restart re-delivers 5 (at least once), never skips it.
 *
 * Pulls of one queue arrive in offset order, so the messages sit in an array in offset order
 * with a head index: finishing marks an entry, the head moves past finished entries, and the
 * array is compacted now and then. Every operation is O(1) amortized.
 *
 * Orderly consumption takes messages from the head (takeMessages), one batch at a time, and
 * either finishes them (removeMessages: the offset after them may be committed) or puts them back
 * to be taken again (makeMessagesToConsumeAgain). It also keeps the broker lock of the queue:
 * renewed every REBALANCE_LOCK_INTERVAL_MS, considered lost after REBALANCE_LOCK_MAX_LIVE_TIME_MS
 * without renewal (the broker keeps it 60 s, so ours expires first).
 */
import type { MessageExt } from '../message/message-ext.js';

interface Entry {
  offset: number;
  msg: MessageExt;
  done: boolean;
  /** Orderly: handed to the listener and not finished or put back yet. */
  taken: boolean;
}

/** A pull that got no answer for this long marks the queue stuck (upstream's pullMaxIdleTime). */
export const PULL_MAX_IDLE_TIME_MS = 120_000;
/** Orderly consumers renew their queue locks this often (upstream's rebalance.lockInterval). */
export const REBALANCE_LOCK_INTERVAL_MS = 20_000;
/** A queue lock not renewed for this long is treated as lost (upstream's rebalance.lockMaxLiveTime). */
export const REBALANCE_LOCK_MAX_LIVE_TIME_MS = 30_000;
const COMPACT_AT = 1024;

export class ProcessQueue {
  private entries: Entry[] = [];
  private head = 0;
  private readonly byOffset = new Map<number, Entry>();
  private bytes = 0;
  /** Highest offset ever put. */
  queueOffsetMax = 0;
  /** Set when the queue left this consumer (rebalance, reset, shutdown): results are discarded. */
  dropped = false;
  lastPullTimestamp = Date.now();
  lastConsumeTimestamp = Date.now();
  /** Orderly consumption: this consumer holds the broker lock of the queue. */
  locked = false;
  lastLockTimestamp = 0;

  /** Messages pulled and not finished. */
  get msgCount(): number {
    return this.byOffset.size;
  }

  /** Body bytes of those messages. */
  get msgSize(): number {
    return this.bytes;
  }

  /** Adds pulled messages (already present offsets are ignored). */
  putMessages(msgs: readonly MessageExt[]): void {
    for (const msg of msgs) {
      const offset = msg.queueOffset;
      if (this.byOffset.has(offset)) continue;
      const entry: Entry = { offset, msg, done: false, taken: false };
      this.byOffset.set(offset, entry);
      this.bytes += msg.body.length;
      const last = this.entries[this.entries.length - 1];
      if (!last || last.offset < offset) {
        this.entries.push(entry);
      } else {
        // Out of order (never from one pull loop): keep the array sorted.
        let i = this.entries.length;
        while (i > this.head && this.entries[i - 1]!.offset > offset) i--;
        this.entries.splice(i, 0, entry);
      }
      if (offset > this.queueOffsetMax) this.queueOffsetMax = offset;
    }
  }

  /**
   * Marks messages finished and returns the offset to commit: the lowest unfinished offset, or
   * queueOffsetMax + 1 when none is left; -1 when the queue held nothing.
   */
  removeMessages(msgs: readonly MessageExt[]): number {
    if (this.byOffset.size === 0) return -1;
    for (const msg of msgs) {
      const entry = this.byOffset.get(msg.queueOffset);
      if (!entry) continue;
      entry.done = true;
      this.byOffset.delete(entry.offset);
      this.bytes -= msg.body.length;
    }
    this.advance();
    this.lastConsumeTimestamp = Date.now();
    return this.byOffset.size > 0 ? this.entries[this.head]!.offset : this.queueOffsetMax + 1;
  }

  private advance(): void {
    while (this.head < this.entries.length && this.entries[this.head]!.done) this.head++;
    if (this.head === this.entries.length) {
      this.entries = [];
      this.head = 0;
    } else if (this.head >= COMPACT_AT && this.head * 2 >= this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }

  /**
   * Orderly: up to `n` unfinished messages from the lowest offset on that are not taken yet,
   * marked taken. Finish them with removeMessages or put them back with makeMessagesToConsumeAgain.
   */
  takeMessages(n: number): MessageExt[] {
    const out: MessageExt[] = [];
    for (let i = this.head; i < this.entries.length && out.length < n; i++) {
      const e = this.entries[i]!;
      if (e.done || e.taken) continue;
      e.taken = true;
      out.push(e.msg);
    }
    return out;
  }

  /** Orderly: taken messages go back to be taken again (in offset order, as they were). */
  makeMessagesToConsumeAgain(msgs: readonly MessageExt[]): void {
    for (const msg of msgs) {
      const e = this.byOffset.get(msg.queueOffset);
      if (e) e.taken = false;
    }
  }

  /** Our broker lock was not renewed for REBALANCE_LOCK_MAX_LIVE_TIME_MS. */
  isLockExpired(now = Date.now()): boolean {
    return now - this.lastLockTimestamp > REBALANCE_LOCK_MAX_LIVE_TIME_MS;
  }

  /** Lowest unfinished offset, if any. */
  get minOffset(): number | undefined {
    return this.byOffset.size > 0 ? this.entries[this.head]!.offset : undefined;
  }

  /** Highest unfinished offset, if any. */
  get maxOffset(): number | undefined {
    for (let i = this.entries.length - 1; i >= this.head; i--) {
      if (!this.entries[i]!.done) return this.entries[i]!.offset;
    }
    return undefined;
  }

  /** Offset distance between the oldest and newest unfinished message (flow control). */
  get maxSpan(): number {
    const min = this.minOffset;
    const max = this.maxOffset;
    return min === undefined || max === undefined ? 0 : max - min;
  }

  /** Forgets every message (lite pull seek). */
  clear(): void {
    this.entries = [];
    this.head = 0;
    this.byOffset.clear();
    this.bytes = 0;
    this.queueOffsetMax = 0;
  }

  isPullExpired(now = Date.now()): boolean {
    return now - this.lastPullTimestamp > PULL_MAX_IDLE_TIME_MS;
  }
}
