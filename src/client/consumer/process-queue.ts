/**
 * The messages of one queue that were pulled but not yet consumed (upstream's ProcessQueue), and
 * from them the offset that may be committed: the lowest offset still unfinished, or one past the
 * highest pulled when all are done. A listener finishing message 7 before 5 therefore commits
 * nothing past 5 until 5 is done, so a restart re-delivers 5 (at least once), never skips it.
 *
 * Pulls of one queue arrive in offset order, so the messages sit in an array in offset order
 * with a head index: finishing marks an entry, the head moves past finished entries (clearing
 * their slots, so a consumed message is not kept), and the array is compacted now and then. An
 * offset is found by binary search from the head. No Map: one with an entry per message rehashed
 * into fresh tables as messages came and went, and the tables it dropped kept consumed messages
 * alive through young-generation collections.
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

/**
 * Flow control of one queue: upstream's pullThresholdForQueue, pullThresholdSizeForQueue (as
 * bytes) and, for concurrent listeners, consumeConcurrentlyMaxSpan.
 */
export interface FlowLimits {
  count: number;
  bytes: number;
  span: number;
}

export class ProcessQueue {
  /** Offset order; slots before `head` are cleared, entries from `head` on are all present. */
  private entries: (Entry | undefined)[] = [];
  private head = 0;
  private unfinished = 0;
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
    return this.unfinished;
  }

  /** Body bytes of those messages. */
  get msgSize(): number {
    return this.bytes;
  }

  private at(i: number): Entry {
    return this.entries[i]!;
  }

  /** The entry of `offset` at or after the head, finished or not. */
  private find(offset: number): Entry | undefined {
    let lo = this.head;
    let hi = this.entries.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const e = this.at(mid);
      if (e.offset === offset) return e;
      if (e.offset < offset) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  /** Adds pulled messages (offsets already held are ignored). */
  putMessages(msgs: readonly MessageExt[]): void {
    for (const msg of msgs) {
      const offset = msg.queueOffset;
      const n = this.entries.length;
      const last = n > this.head ? this.at(n - 1) : undefined;
      const entry: Entry = { offset, msg, done: false, taken: false };
      if (!last || last.offset < offset) {
        this.entries.push(entry);
      } else {
        if (this.find(offset)) continue;
        // Out of order (never from one pull loop): keep the array sorted.
        let i = n;
        while (i > this.head && this.at(i - 1).offset > offset) i--;
        this.entries.splice(i, 0, entry);
      }
      this.unfinished++;
      this.bytes += msg.body.length;
      if (offset > this.queueOffsetMax) this.queueOffsetMax = offset;
    }
  }

  /**
   * Marks messages finished and returns the offset to commit: the lowest unfinished offset, or
   * queueOffsetMax + 1 when none is left; -1 when the queue held nothing.
   */
  removeMessages(msgs: readonly MessageExt[]): number {
    if (this.unfinished === 0) return -1;
    for (const msg of msgs) {
      const entry = this.find(msg.queueOffset);
      if (!entry || entry.done) continue;
      entry.done = true;
      this.unfinished--;
      this.bytes -= msg.body.length;
    }
    this.advance();
    this.lastConsumeTimestamp = Date.now();
    return this.unfinished > 0 ? this.at(this.head).offset : this.queueOffsetMax + 1;
  }

  private advance(): void {
    const entries = this.entries;
    while (this.head < entries.length && this.at(this.head).done) entries[this.head++] = undefined;
    if (this.head === entries.length) {
      this.entries = [];
      this.head = 0;
    } else if (this.head >= COMPACT_AT && this.head * 2 >= entries.length) {
      this.entries = entries.slice(this.head);
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
      const e = this.at(i);
      if (e.done || e.taken) continue;
      e.taken = true;
      out.push(e.msg);
    }
    return out;
  }

  /** Orderly: taken messages go back to be taken again (in offset order, as they were). */
  makeMessagesToConsumeAgain(msgs: readonly MessageExt[]): void {
    for (const msg of msgs) {
      const e = this.find(msg.queueOffset);
      if (e && !e.done) e.taken = false;
    }
  }

  /** Our broker lock was not renewed for REBALANCE_LOCK_MAX_LIVE_TIME_MS. */
  isLockExpired(now = Date.now()): boolean {
    return now - this.lastLockTimestamp > REBALANCE_LOCK_MAX_LIVE_TIME_MS;
  }

  /** Lowest unfinished offset, if any. */
  get minOffset(): number | undefined {
    return this.unfinished > 0 ? this.at(this.head).offset : undefined;
  }

  /** Highest unfinished offset, if any. */
  get maxOffset(): number | undefined {
    for (let i = this.entries.length - 1; i >= this.head; i--) {
      if (!this.at(i).done) return this.at(i).offset;
    }
    return undefined;
  }

  /** Offset distance between the oldest and newest unfinished message (flow control). */
  get maxSpan(): number {
    const min = this.minOffset;
    const max = this.maxOffset;
    return min === undefined || max === undefined ? 0 : max - min;
  }

  /**
   * True when the queue is past a limit, or would be with `count` more messages of `bytes` bytes
   * and unfinished offsets spanning at least `span`.
   */
  overFlowLimit(limits: FlowLimits, count: number, bytes: number, span: number): boolean {
    return (
      this.unfinished + count > limits.count ||
      this.bytes + bytes > limits.bytes ||
      Math.max(this.maxSpan, span) > limits.span
    );
  }

  /** Forgets every message (lite pull seek). */
  clear(): void {
    this.entries = [];
    this.head = 0;
    this.unfinished = 0;
    this.bytes = 0;
    this.queueOffsetMax = 0;
  }

  isPullExpired(now = Date.now()): boolean {
    return now - this.lastPullTimestamp > PULL_MAX_IDLE_TIME_MS;
  }
}
