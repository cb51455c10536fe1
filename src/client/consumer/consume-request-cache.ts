/**
 * What a LitePullConsumer's pull loops have fetched and `poll` has not yet returned: batches in
 * arrival order, a message count for flow control, and pollers waiting for the next batch (one
 * timer per waiting poll, none per message).
 */
import type { MessageExt } from '../message/message-ext.js';
import { mqKey, type MessageQueue } from '../message/message-queue.js';
import type { ProcessQueue } from './process-queue.js';

export interface ConsumeRequest {
  msgs: MessageExt[];
  mq: MessageQueue;
  pq: ProcessQueue;
}

export class ConsumeRequestCache {
  private queue: ConsumeRequest[] = [];
  private count = 0;
  private readonly waiters = new Set<() => void>();

  /** Messages cached over all queues. */
  get messageCount(): number {
    return this.count;
  }

  put(req: ConsumeRequest): void {
    this.queue.push(req);
    this.count += req.msgs.length;
    this.wakeAll();
  }

  take(): ConsumeRequest | undefined {
    const req = this.queue.shift();
    if (req) this.count -= req.msgs.length;
    return req;
  }

  /** Drops the batches of one queue; true if there were any. */
  removeQueue(mq: MessageQueue): boolean {
    const key = mqKey(mq);
    const before = this.queue.length;
    this.queue = this.queue.filter((r) => {
      if (mqKey(r.mq) !== key) return true;
      this.count -= r.msgs.length;
      return false;
    });
    return before !== this.queue.length;
  }

  /** Resolves when a batch arrives, wakeAll is called, or `ms` passed. */
  waitForMessages(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  wakeAll(): void {
    for (const w of [...this.waiters]) w();
  }
}
