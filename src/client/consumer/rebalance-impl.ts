/**
 * Which queues this consumer owns (upstream's RebalanceImpl). For each subscribed topic:
 * CLUSTERING asks a broker for the group's client ids and lets the allocation strategy pick this
 * client's share; BROADCASTING takes every queue. Queues that left the share are dropped (their
 * offset committed first, by the host), new ones get a ProcessQueue and a start offset and are
 * handed to the host's pull loop. The instance runs this every 20 s and on membership notices;
 * runs never overlap.
 *
 * For orderly consumers in CLUSTERING mode (host.lockQueues) a new queue is only taken once its
 * broker lock is held (LOCK_BATCH_MQ, one request per broker); a queue whose lock another client
 * still holds is skipped and counted in lockFailures, so the consumer can try again soon. The
 * host gives a queue's lock back (UNLOCK_BATCH_MQ) when the queue leaves, and may refuse to let
 * it go while a batch of it is still being consumed: the next run tries again.
 */
import type { Logger } from '../../common/logger.js';
import { errorMessage } from '../../common/errors.js';
import { RETRY_GROUP_TOPIC_PREFIX } from '../../common/message/message-const.js';
import type { ConsumeType, MessageModel, SubscriptionData } from '../../protocol/heartbeat.js';
import { MASTER_ID } from '../../protocol/route-data.js';
import type { MQClientInstance } from '../client-instance.js';
import { compareMessageQueue, mqKey, type MessageQueue } from '../message/message-queue.js';
import type { AllocateMessageQueueStrategy } from './allocate-strategy.js';
import { ProcessQueue } from './process-queue.js';

export interface PullRequest {
  mq: MessageQueue;
  pq: ProcessQueue;
  nextOffset: number;
}

/** What the consumer supplies to the rebalance. */
export interface RebalanceHost {
  readonly consumeType: ConsumeType;
  /** Orderly consumers in CLUSTERING mode: lock a queue on its broker before taking it. */
  readonly lockQueues?: boolean;
  /** Start offset of a queue new to this consumer; negative = cannot tell now (retry next run). */
  computePullFromWhere(mq: MessageQueue): Promise<number>;
  /** The queue leaves: commit its offset and forget it. False keeps it (try again next run). */
  removeUnnecessaryMessageQueue(mq: MessageQueue, pq: ProcessQueue): Promise<boolean>;
  removeDirtyOffset(mq: MessageQueue): void;
  dispatchPullRequests(requests: PullRequest[]): void;
  messageQueueChanged?(topic: string, mqAll: MessageQueue[], mqDivided: MessageQueue[]): void;
}

export class RebalanceImpl {
  readonly subscriptionInner = new Map<string, SubscriptionData>();
  readonly topicSubscribeInfoTable = new Map<string, MessageQueue[]>();
  readonly processQueueTable = new Map<string, { mq: MessageQueue; pq: ProcessQueue }>();
  /** Queues of the last run that could not be locked (orderly consumers). */
  lockFailures = 0;
  /** Queues whose removal the host refused (an orderly batch still running): retried next run. */
  private readonly removalPending = new Set<string>();

  constructor(
    private readonly instance: MQClientInstance,
    private readonly group: string,
    private readonly messageModel: MessageModel,
    private readonly strategy: AllocateMessageQueueStrategy,
    private readonly host: RebalanceHost,
    private readonly log: Logger,
  ) {}

  assignedQueues(): MessageQueue[] {
    return [...this.processQueueTable.values()].map((e) => e.mq).sort(compareMessageQueue);
  }

  async doRebalance(): Promise<void> {
    this.lockFailures = 0;
    for (const topic of [...this.subscriptionInner.keys()]) {
      try {
        await this.rebalanceByTopic(topic);
      } catch (err) {
        this.log.warn({ topic, err: errorMessage(err) }, 'rebalance of topic failed');
      }
    }
    await this.truncateMessageQueueNotMyTopic();
  }

  private async rebalanceByTopic(topic: string): Promise<void> {
    let mqAll = this.topicSubscribeInfoTable.get(topic);
    if (!mqAll) {
      // Not known yet (a topic created after we subscribed, a retry topic the broker just made).
      await this.instance.updateTopicRouteInfoFromNameServer(topic);
      mqAll = this.topicSubscribeInfoTable.get(topic);
      if (!mqAll) {
        if (!topic.startsWith(RETRY_GROUP_TOPIC_PREFIX)) {
          this.log.warn({ topic }, 'doRebalance: the topic has no route yet');
        }
        return;
      }
    }
    const sorted = [...mqAll].sort(compareMessageQueue);
    let mine: MessageQueue[];
    if (this.messageModel === 'BROADCASTING') {
      mine = sorted;
    } else {
      const cids = await this.instance.findConsumerIdList(topic, this.group);
      if (cids.length === 0) {
        this.log.warn({ topic, group: this.group }, 'doRebalance: no consumer id list for the group yet');
        return;
      }
      cids.sort();
      try {
        mine = this.strategy.allocate(this.group, this.instance.clientId, sorted, cids);
      } catch (err) {
        this.log.error(
          { strategy: this.strategy.name, err: errorMessage(err) },
          'allocate message queues failed',
        );
        return;
      }
    }
    const changed = await this.updateProcessQueueTable(topic, mine);
    if (changed) {
      this.log.debug(
        { topic, group: this.group, queues: mine.map((q) => `${q.brokerName}:${q.queueId}`) },
        'rebalance changed the queues of this consumer',
      );
      this.host.messageQueueChanged?.(topic, sorted, mine);
    }
  }

  private async updateProcessQueueTable(topic: string, mine: MessageQueue[]): Promise<boolean> {
    const wanted = new Map(mine.map((mq) => [mqKey(mq), mq]));
    let changed = false;
    for (const [key, { mq, pq }] of this.processQueueTable) {
      if (mq.topic !== topic) continue;
      // A queue whose removal did not finish is removed again (and re-added if wanted again).
      const stale = !wanted.has(key) || this.removalPending.has(key);
      const expired = !stale && this.host.consumeType === 'CONSUME_PASSIVELY' && pq.isPullExpired();
      if (!stale && !expired) continue;
      if (expired) this.log.warn({ mq }, 'pull of the queue is stuck, dropping it to start over');
      pq.dropped = true;
      if (await this.host.removeUnnecessaryMessageQueue(mq, pq)) {
        this.processQueueTable.delete(key);
        this.removalPending.delete(key);
        changed = true;
      } else {
        this.removalPending.add(key);
      }
    }
    let added = [...wanted].filter(([key]) => !this.processQueueTable.has(key)).map(([, mq]) => mq);
    if (this.host.lockQueues && added.length > 0) {
      const held = await this.lockBatch(added);
      const lost = added.filter((mq) => !held.has(mqKey(mq)));
      if (lost.length > 0) {
        this.lockFailures += lost.length;
        this.log.info(
          { queues: lost.map((q) => `${q.brokerName}:${q.queueId}`), topic },
          'doRebalance: queues locked by another consumer, not taken yet',
        );
      }
      added = added.filter((mq) => held.has(mqKey(mq)));
    }
    const offsets = await Promise.all(
      added.map((mq) => {
        this.host.removeDirtyOffset(mq);
        return this.host.computePullFromWhere(mq).catch((err: unknown) => {
          this.log.warn({ mq, err: errorMessage(err) }, 'cannot compute where to start pulling');
          return -1;
        });
      }),
    );
    const requests: PullRequest[] = [];
    added.forEach((mq, i) => {
      const nextOffset = offsets[i]!;
      const key = mqKey(mq);
      if (nextOffset < 0) {
        this.log.warn({ mq }, 'doRebalance: add new queue failed, retry next time');
        return;
      }
      if (this.processQueueTable.has(key)) return;
      const pq = new ProcessQueue();
      if (this.host.lockQueues) {
        pq.locked = true;
        pq.lastLockTimestamp = Date.now();
      }
      this.processQueueTable.set(key, { mq, pq });
      requests.push({ mq, pq, nextOffset });
      changed = true;
    });
    if (requests.length > 0) this.host.dispatchPullRequests(requests);
    return changed;
  }

  /** Queues of topics no longer subscribed are dropped. */
  private async truncateMessageQueueNotMyTopic(): Promise<void> {
    for (const [key, { mq, pq }] of this.processQueueTable) {
      if (this.subscriptionInner.has(mq.topic)) continue;
      pq.dropped = true;
      if (await this.host.removeUnnecessaryMessageQueue(mq, pq)) {
        this.processQueueTable.delete(key);
        this.removalPending.delete(key);
      }
    }
  }

  /** Drops one queue now (its offset moved, or it was reset); the next run may add it again. */
  async removeProcessQueue(mq: MessageQueue): Promise<void> {
    const key = mqKey(mq);
    const entry = this.processQueueTable.get(key);
    if (!entry) return;
    entry.pq.dropped = true;
    await this.host.removeUnnecessaryMessageQueue(entry.mq, entry.pq);
    if (this.processQueueTable.get(key) === entry) {
      this.processQueueTable.delete(key);
      this.removalPending.delete(key);
    }
  }

  // ---- queue locks (orderly consumers) ----

  private byBroker(mqs: readonly MessageQueue[]): Map<string, MessageQueue[]> {
    const out = new Map<string, MessageQueue[]>();
    for (const mq of mqs) {
      const list = out.get(mq.brokerName);
      if (list) list.push(mq);
      else out.set(mq.brokerName, [mq]);
    }
    return out;
  }

  /**
   * LOCK_BATCH_MQ per broker; returns the keys of the queues now held. Queues in the table are
   * marked locked (with the time) or, when their broker answered without them, not locked.
   */
  async lockBatch(mqs: readonly MessageQueue[]): Promise<Set<string>> {
    const held = new Set<string>();
    const answered = new Set<string>();
    await Promise.all(
      [...this.byBroker(mqs)].map(async ([brokerName, list]) => {
        const addr = this.instance.findBrokerAddressInSubscribe(brokerName, MASTER_ID, true)?.addr;
        if (!addr) return;
        try {
          const locked = await this.instance.api.lockBatchMQ(addr, this.group, this.instance.clientId, list);
          for (const mq of locked) held.add(mqKey(mq));
          for (const mq of list) answered.add(mqKey(mq));
        } catch (err) {
          this.log.warn({ brokerName, addr, err: errorMessage(err) }, 'lock queues failed');
        }
      }),
    );
    const now = Date.now();
    for (const mq of mqs) {
      const key = mqKey(mq);
      const entry = this.processQueueTable.get(key);
      if (!entry) continue;
      if (held.has(key)) {
        entry.pq.locked = true;
        entry.pq.lastLockTimestamp = now;
      } else if (answered.has(key)) {
        if (entry.pq.locked) this.log.warn({ mq }, 'the queue lock was lost');
        entry.pq.locked = false;
      }
    }
    return held;
  }

  async lock(mq: MessageQueue): Promise<boolean> {
    return (await this.lockBatch([mq])).has(mqKey(mq));
  }

  /** Renews the lock of every queue held, except those being given back. */
  async lockAll(): Promise<void> {
    const mqs = [...this.processQueueTable.values()]
      .filter(({ pq }) => !pq.dropped || pq.locked)
      .map(({ mq }) => mq);
    if (mqs.length > 0) await this.lockBatch(mqs);
  }

  /** UNLOCK_BATCH_MQ per broker (errors are logged). */
  async unlock(mqs: readonly MessageQueue[], oneway: boolean): Promise<void> {
    for (const mq of mqs) {
      const entry = this.processQueueTable.get(mqKey(mq));
      if (entry) entry.pq.locked = false;
    }
    await Promise.all(
      [...this.byBroker(mqs)].map(async ([brokerName, list]) => {
        const addr = this.instance.findBrokerAddressInSubscribe(brokerName, MASTER_ID, true)?.addr;
        if (!addr) return;
        try {
          await this.instance.api.unlockBatchMQ(addr, this.group, this.instance.clientId, list, oneway);
        } catch (err) {
          this.log.warn({ brokerName, addr, err: errorMessage(err) }, 'unlock queues failed');
        }
      }),
    );
  }

  /** Marks every queue dropped (shutdown): pending results are discarded. */
  dropAll(): void {
    for (const { pq } of this.processQueueTable.values()) pq.dropped = true;
  }
}
