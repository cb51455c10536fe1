/**
 * Queue locks of orderly consumers (LOCK_BATCH_MQ / UNLOCK_BATCH_MQ): per consumer group, each
 * message queue is held by one client id for `lockMaxLiveMs` (upstream: 60 s) unless renewed
 * (clients renew every 20 s). A lock whose holder stopped renewing can be taken by another client.
 */
import type { MessageQueue } from '../../protocol/admin-bodies.js';
import { mqKey } from '../../protocol/admin-bodies.js';

interface LockEntry {
  clientId: string;
  lastUpdate: number;
}

export class RebalanceLockManager {
  private readonly groups = new Map<string, Map<string, LockEntry>>();

  constructor(private readonly lockMaxLiveMs = 60_000) {}

  private table(group: string): Map<string, LockEntry> {
    let t = this.groups.get(group);
    if (!t) {
      t = new Map();
      this.groups.set(group, t);
    }
    return t;
  }

  /** Locks (or renews) what it can; returns the queues now held by `clientId`. */
  tryLockBatch(group: string, mqs: MessageQueue[], clientId: string, now = Date.now()): MessageQueue[] {
    const t = this.table(group);
    const locked: MessageQueue[] = [];
    for (const mq of mqs) {
      const key = mqKey(mq);
      const e = t.get(key);
      if (!e || e.clientId === clientId || now - e.lastUpdate > this.lockMaxLiveMs) {
        t.set(key, { clientId, lastUpdate: now });
        locked.push(mq);
      }
    }
    return locked;
  }

  unlockBatch(group: string, mqs: MessageQueue[], clientId: string): void {
    const t = this.groups.get(group);
    if (!t) return;
    for (const mq of mqs) {
      const key = mqKey(mq);
      if (t.get(key)?.clientId === clientId) t.delete(key);
    }
  }

  /** The client holding a queue now, if its lock is alive. */
  holder(group: string, mq: MessageQueue, now = Date.now()): string | undefined {
    const e = this.groups.get(group)?.get(mqKey(mq));
    return e && now - e.lastUpdate <= this.lockMaxLiveMs ? e.clientId : undefined;
  }
}
