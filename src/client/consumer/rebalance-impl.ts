/**
 * Which queues this consumer owns (upstream's RebalanceImpl). For each subscribed topic:
 * CLUSTERING asks a broker for the group's client ids and lets the allocation strategy pick this
 * client's share; BROADCASTING takes every queue. Queues that left the share are dropped (their
 * offset committed first, by the host), new ones get a ProcessQueue and a start offset and are
 * handed to the host's pull loop. The instance runs this every 20 s and on membership notices;
 * runs never overlap.
 */
import type { Logger } from '../../common/logger.js';
import { errorMessage } from '../../common/errors.js';
import { RETRY_GROUP_TOPIC_PREFIX } from '../../common/message/message-const.js';
import type { ConsumeType, MessageModel, SubscriptionData } from '../../protocol/heartbeat.js';
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
      const stale = !wanted.has(key);
      const expired = !stale && this.host.consumeType === 'CONSUME_PASSIVELY' && pq.isPullExpired();
      if (!stale && !expired) continue;
      if (expired) this.log.warn({ mq }, 'pull of the queue is stuck, dropping it to start over');
      pq.dropped = true;
      if (await this.host.removeUnnecessaryMessageQueue(mq, pq)) {
        this.processQueueTable.delete(key);
        changed = true;
      }
    }
    const added = [...wanted].filter(([key]) => !this.processQueueTable.has(key)).map(([, mq]) => mq);
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
      if (await this.host.removeUnnecessaryMessageQueue(mq, pq)) this.processQueueTable.delete(key);
    }
  }

  /** Drops one queue now (its offset moved, or it was reset); the next run may add it again. */
  async removeProcessQueue(mq: MessageQueue): Promise<void> {
    const key = mqKey(mq);
    const entry = this.processQueueTable.get(key);
    if (!entry) return;
    entry.pq.dropped = true;
    await this.host.removeUnnecessaryMessageQueue(entry.mq, entry.pq);
    if (this.processQueueTable.get(key) === entry) this.processQueueTable.delete(key);
  }

  /** Marks every queue dropped (shutdown): pending results are discarded. */
  dropAll(): void {
    for (const { pq } of this.processQueueTable.values()) pq.dropped = true;
  }
}
