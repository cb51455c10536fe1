/**
 * The messages of one queue that were pulled but not yet consumed (upstream's ProcessQueue), and
 * from them the offset that may be committed: the lowest offset still unfinished, or one past the
 * highest pulled when all are done. A listener finishing message 7 before 5 therefore commits
 * nothing past 5 until 5 is done, so a restart re-delivers 5 (at least once), never skips it.
 *
 * Pulls of one queue arrive in offset order, so the messages sit in an array in offset order
 * with a head index: finishing marks an entry, the head moves past finished entries, and the
 * array is compacted now and then. Every operation is O(1) amortized.
 */
import type { MessageExt } from '../message/message-ext.js';

interface Entry {
  offset: number;
  msg: MessageExt;
  done: boolean;
}

/** A pull that got no answer for this long marks the queue stuck (upstream's pullMaxIdleTime). */
export const PULL_MAX_IDLE_TIME_MS = 120_000;
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
  /** Orderly consumption (later): the broker lock on this queue. */
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
      const entry: Entry = { offset, msg, done: false };
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
