/**
 * LitePullConsumer (upstream's DefaultLitePullConsumer): the application polls.
 *
 * Queues come from `subscribe` (the group rebalances them, like a push consumer) or from `assign`
 * (fixed, no group membership). Each owned queue has a background pull loop that fills a shared
 * cache (bounded by pullThresholdForAll messages, and per queue by pullThresholdForQueue /
 * pullThresholdSizeForQueue); `poll` takes the oldest batch. A polled message counts as consumed:
 * `commitSync` commits what was polled so far and writes it to the broker (or the local file for
 * BROADCASTING); with autoCommit, `poll` commits every autoCommitIntervalMillis and the client
 * instance writes commits out every persistConsumerOffsetInterval. `seek` restarts a queue at an
 * offset, dropping what was cached for it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { getLogger, type Logger } from '../../common/logger.js';
import { RmqError, ErrorCode, errorMessage } from '../../common/errors.js';
import { buildSubscriptionData, type SubscriptionData } from '../../protocol/heartbeat.js';
import { getOrCreateClientInstance, type ConsumerInner, type MQClientInstance } from '../client-instance.js';
import { PullStatus } from '../mq-client-api.js';
import type { MessageExt } from '../message/message-ext.js';
import { mqKey, type MessageQueue } from '../message/message-queue.js';
import { topicRouteToSubscribeInfo } from '../producer/topic-publish-info.js';
import { resetRetryTopic } from './consume-message-service.js';
import {
  positiveInt,
  resolveConsumerOptions,
  type ConsumerConfig,
  type ConsumerOptions,
} from './consumer-options.js';
import {
  computePullFromWhere,
  maxOffsetOf,
  minOffsetOf,
  runningInfoOf,
  searchOffsetOf,
} from './consumer-support.js';
import { OFFSET_UNKNOWN, type OffsetStore } from './offset-store.js';
import { ProcessQueue } from './process-queue.js';
import { ConsumeRequestCache } from './consume-request-cache.js';
import { PullAPIWrapper } from './pull-api-wrapper.js';
import type { RebalanceImpl, RebalanceHost } from './rebalance-impl.js';
import { openConsumerState } from './consumer-state.js';

export interface LitePullConsumerOptions extends ConsumerOptions {
  /** Messages per pull (10). */
  pullBatchSize?: number;
  /** Commit polled offsets automatically (true). */
  autoCommit?: boolean;
  autoCommitIntervalMillis?: number;
  pullThresholdForQueue?: number;
  /** MiB. */
  pullThresholdSizeForQueue?: number;
  /** Cached messages of all queues before every pull loop pauses (10000). */
  pullThresholdForAll?: number;
  /** Default timeout of poll() (5000). */
  pollTimeoutMillis?: number;
}

interface Assigned {
  mq: MessageQueue;
  pq: ProcessQueue;
  /** Next offset to pull; -1 = compute from the store. */
  pullOffset: number;
  /** Next offset after what was polled; -1 = nothing polled yet. */
  consumeOffset: number;
  seekOffset: number;
  paused: boolean;
  task: { cancelled: boolean };
}

const BROKER_SUSPEND_MAX_TIME_MILLIS = 15_000;
const CONSUMER_TIMEOUT_MILLIS_WHEN_SUSPEND = 30_000;
const FLOW_CONTROL_DELAY_MILLIS = 50;
const PAUSE_DELAY_MILLIS = 1000;

export class LitePullConsumer {
  readonly config: ConsumerConfig;
  readonly group: string;
  private readonly log: Logger;
  private readonly opts: Required<Omit<LitePullConsumerOptions, keyof ConsumerOptions>>;
  private mode: 'NONE' | 'SUBSCRIBE' | 'ASSIGN' = 'NONE';
  private readonly subscriptions = new Map<string, string>();
  private assignedList: MessageQueue[] = [];
  private state: 'CREATED' | 'RUNNING' | 'SHUTDOWN' = 'CREATED';
  private instance: MQClientInstance | undefined;
  private rebalance: RebalanceImpl | undefined;
  private offsetStore: OffsetStore | undefined;
  private pullApi: PullAPIWrapper | undefined;
  private readonly assigned = new Map<string, Assigned>();
  private readonly cache = new ConsumeRequestCache();
  private nextAutoCommit = 0;

  constructor(options: LitePullConsumerOptions) {
    this.config = resolveConsumerOptions(options);
    this.group = this.config.consumerGroup;
    this.log = getLogger('client.lite-pull-consumer').child({ group: this.group });
    this.opts = {
      pullBatchSize: positiveInt('pullBatchSize', options.pullBatchSize, 10, 1, 1024),
      autoCommit: options.autoCommit ?? true,
      autoCommitIntervalMillis: positiveInt(
        'autoCommitIntervalMillis',
        options.autoCommitIntervalMillis,
        5000,
        1,
      ),
      pullThresholdForQueue: positiveInt('pullThresholdForQueue', options.pullThresholdForQueue, 1000, 1),
      pullThresholdSizeForQueue: positiveInt(
        'pullThresholdSizeForQueue',
        options.pullThresholdSizeForQueue,
        100,
        1,
      ),
      pullThresholdForAll: positiveInt('pullThresholdForAll', options.pullThresholdForAll, 10000, 1),
      pollTimeoutMillis: positiveInt('pollTimeoutMillis', options.pollTimeoutMillis, 5000, 0),
    };
  }

  get clientId(): string | undefined {
    return this.instance?.clientId;
  }

  subscribe(topic: string, subExpression = '*'): void {
    if (this.mode === 'ASSIGN')
      throw new RmqError(ErrorCode.CLIENT_STATE, 'Subscribe and assign are mutually exclusive.');
    this.mode = 'SUBSCRIBE';
    const sub = buildSubscriptionData(topic, subExpression);
    this.subscriptions.set(topic, subExpression);
    if (this.state === 'RUNNING') {
      this.rebalance!.subscriptionInner.set(topic, sub);
      const instance = this.instance!;
      instance
        .updateTopicRouteInfoFromNameServer(topic)
        .then(() => instance.sendHeartbeatToAllBrokers())
        .then(() => instance.rebalanceImmediately())
        .catch((err: unknown) => this.log.warn({ topic, err: errorMessage(err) }, 'subscribing failed'));
    }
  }

  unsubscribe(topic: string): void {
    this.subscriptions.delete(topic);
    this.rebalance?.subscriptionInner.delete(topic);
  }

  /** Takes exactly these queues (no rebalance, no group membership). */
  assign(mqs: readonly MessageQueue[]): void {
    if (this.mode === 'SUBSCRIBE')
      throw new RmqError(ErrorCode.CLIENT_STATE, 'Subscribe and assign are mutually exclusive.');
    this.mode = 'ASSIGN';
    this.assignedList = [...mqs];
    if (this.state === 'RUNNING') this.updateAssigned(this.assignedList);
  }

  assignment(): MessageQueue[] {
    return [...this.assigned.values()].map((a) => a.mq);
  }

  async start(): Promise<void> {
    if (this.state !== 'CREATED')
      throw new RmqError(ErrorCode.CLIENT_STATE, `The consumer state is ${this.state}, not CREATED`);
    const instance = getOrCreateClientInstance(this.config.client);
    const log = this.log.child({ clientId: instance.clientId });
    const state = await openConsumerState(
      instance,
      this.group,
      this.config,
      this.subscriptions,
      this.rebalanceHost(),
      log,
    );
    this.offsetStore = state.offsetStore;
    this.rebalance = state.rebalance;
    this.pullApi = new PullAPIWrapper(instance, this.group);
    instance.registerConsumer(this.inner());
    this.instance = instance;
    this.state = 'RUNNING';
    this.nextAutoCommit = Date.now() + this.opts.autoCommitIntervalMillis;
    instance.start();
    if (this.mode === 'SUBSCRIBE') {
      await Promise.all(
        [...this.subscriptions.keys()].map((t) => instance.updateTopicRouteInfoFromNameServer(t)),
      );
      await instance.sendHeartbeatToAllBrokers();
      instance.rebalanceImmediately();
    } else if (this.mode === 'ASSIGN') {
      this.updateAssigned(this.assignedList);
    }
  }

  async shutdown(): Promise<void> {
    if (this.state !== 'RUNNING') return;
    if (this.opts.autoCommit) this.commitToMemory();
    this.state = 'SHUTDOWN';
    for (const a of this.assigned.values()) {
      a.task.cancelled = true;
      a.pq.dropped = true;
    }
    this.cache.wakeAll();
    await this.offsetStore!.persistAll(this.assignment(), false);
    await this.instance!.unregisterConsumer(this.group);
  }

  /** The next batch of pulled messages, or [] when none arrived within the timeout. */
  async poll(timeoutMs = this.opts.pollTimeoutMillis): Promise<MessageExt[]> {
    this.checkRunning();
    if (this.opts.autoCommit && Date.now() >= this.nextAutoCommit) {
      this.commitToMemory();
      this.nextAutoCommit = Date.now() + this.opts.autoCommitIntervalMillis;
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const req = this.cache.take();
      if (req) {
        if (req.pq.dropped) continue;
        const offset = req.pq.removeMessages(req.msgs);
        const a = this.assigned.get(mqKey(req.mq));
        if (a && a.pq === req.pq && offset >= 0) a.consumeOffset = offset;
        if (this.config.messageModel === 'CLUSTERING')
          for (const m of req.msgs) resetRetryTopic(m, this.group);
        return req.msgs;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0 || this.state !== 'RUNNING') return [];
      await this.cache.waitForMessages(remaining);
    }
  }

  /** Restarts a queue at `offset` (between its min and max offset); cached messages of it are dropped. */
  async seek(mq: MessageQueue, offset: number): Promise<void> {
    this.checkRunning();
    const a = this.assigned.get(mqKey(mq));
    if (!a)
      throw new RmqError(
        ErrorCode.ILLEGAL_ARGUMENT,
        `The message queue is not in assigned list: ${mqKey(mq)}`,
      );
    const [min, max] = await Promise.all([minOffsetOf(this.instance!, mq), maxOffsetOf(this.instance!, mq)]);
    if (offset < min || offset > max) {
      throw new RmqError(
        ErrorCode.ILLEGAL_ARGUMENT,
        `Seek offset illegal, seek offset = ${offset}, min offset = ${min}, max offset = ${max}`,
      );
    }
    this.clearCacheOf(a);
    a.task.cancelled = true;
    a.seekOffset = offset;
    a.task = { cancelled: false };
    this.startLoop(a);
  }

  async seekToBegin(mq: MessageQueue): Promise<void> {
    await this.seek(mq, await minOffsetOf(this.instance!, mq));
  }

  async seekToEnd(mq: MessageQueue): Promise<void> {
    await this.seek(mq, await maxOffsetOf(this.instance!, mq));
  }

  /** The offset of the first message stored at or after `timestamp` (ms). */
  async offsetForTimestamp(mq: MessageQueue, timestamp: number): Promise<number> {
    this.checkRunning();
    return searchOffsetOf(this.instance!, mq, timestamp);
  }

  /** Commits what was polled from every owned queue and writes it to the offset store now. */
  async commitSync(): Promise<void> {
    this.checkRunning();
    this.commitToMemory();
    await this.offsetStore!.persistAll(this.assignment(), false);
  }

  /** Commits given offsets (next offset to consume per queue); `persist` writes them out now. */
  async commit(offsets: ReadonlyArray<readonly [MessageQueue, number]>, persist = true): Promise<void> {
    this.checkRunning();
    for (const [mq, offset] of offsets) {
      const a = this.assigned.get(mqKey(mq));
      if (a && !a.pq.dropped && offset >= 0) this.offsetStore!.updateOffset(mq, offset, false);
    }
    if (persist) await this.offsetStore!.persistAll(this.assignment(), false);
  }

  /** The group's committed offset of a queue (memory first, then the store); -1 = none. */
  async committed(mq: MessageQueue): Promise<number> {
    this.checkRunning();
    const mem = this.offsetStore!.readOffsetFromMemory(mq);
    if (mem >= 0) return mem;
    const stored = await this.offsetStore!.readOffsetFromStore(mq);
    if (stored === OFFSET_UNKNOWN)
      throw new RmqError(ErrorCode.BROKER_RESPONSE, 'Fetch consume offset from broker exception');
    return stored;
  }

  pause(mqs: readonly MessageQueue[]): void {
    for (const mq of mqs) {
      const a = this.assigned.get(mqKey(mq));
      if (a) a.paused = true;
    }
  }

  resume(mqs: readonly MessageQueue[]): void {
    for (const mq of mqs) {
      const a = this.assigned.get(mqKey(mq));
      if (a) a.paused = false;
    }
  }

  async fetchMessageQueues(topic: string): Promise<MessageQueue[]> {
    this.checkRunning();
    const route = await this.instance!.api.getTopicRouteInfo(topic);
    return topicRouteToSubscribeInfo(topic, route);
  }

  private checkRunning(): void {
    if (this.state !== 'RUNNING')
      throw new RmqError(ErrorCode.CLIENT_STATE, `The consumer is not running (${this.state})`);
  }

  private commitToMemory(): void {
    for (const a of this.assigned.values()) {
      if (a.consumeOffset >= 0 && !a.pq.dropped) this.offsetStore!.updateOffset(a.mq, a.consumeOffset, false);
    }
  }

  private clearCacheOf(a: Assigned): void {
    if (this.cache.removeQueue(a.mq) || a.pq.msgCount > 0) a.pq.clear();
  }

  // ---- queue ownership ----

  /** Assign mode: start loops for new queues, stop those no longer wanted. */
  private updateAssigned(mqs: readonly MessageQueue[]): void {
    const wanted = new Map(mqs.map((mq) => [mqKey(mq), mq]));
    for (const [key, a] of this.assigned) {
      if (wanted.has(key)) continue;
      this.drop(a);
      this.assigned.delete(key);
    }
    for (const [key, mq] of wanted) if (!this.assigned.has(key)) this.startQueue(mq, new ProcessQueue(), -1);
  }

  private startQueue(mq: MessageQueue, pq: ProcessQueue, nextOffset: number): void {
    const a: Assigned = {
      mq,
      pq,
      pullOffset: nextOffset,
      consumeOffset: nextOffset,
      seekOffset: -1,
      paused: false,
      task: { cancelled: false },
    };
    this.assigned.set(mqKey(mq), a);
    this.startLoop(a);
  }

  private drop(a: Assigned): void {
    a.task.cancelled = true;
    a.pq.dropped = true;
    this.clearCacheOf(a);
  }

  private rebalanceHost(): RebalanceHost {
    return {
      consumeType: 'CONSUME_ACTIVELY',
      computePullFromWhere: (mq) => computePullFromWhere(this.instance!, this.offsetStore!, this.config, mq),
      removeUnnecessaryMessageQueue: async (mq) => {
        const a = this.assigned.get(mqKey(mq));
        if (a) {
          if (this.opts.autoCommit && a.consumeOffset >= 0)
            this.offsetStore!.updateOffset(mq, a.consumeOffset, false);
          this.drop(a);
          this.assigned.delete(mqKey(mq));
        }
        await this.offsetStore!.persist(mq);
        this.offsetStore!.removeOffset(mq);
        return true;
      },
      removeDirtyOffset: (mq) => this.offsetStore!.removeOffset(mq),
      dispatchPullRequests: (requests) => {
        for (const r of requests) this.startQueue(r.mq, r.pq, r.nextOffset);
      },
    };
  }

  private inner(): ConsumerInner {
    return {
      group: this.group,
      messageModel: this.config.messageModel,
      consumeType: 'CONSUME_ACTIVELY',
      consumeFromWhere: this.config.consumeFromWhere,
      subscriptions: (): SubscriptionData[] => [...(this.rebalance?.subscriptionInner.values() ?? [])],
      updateTopicSubscribeInfo: (topic, mqs) => {
        if (this.rebalance?.subscriptionInner.has(topic))
          this.rebalance.topicSubscribeInfoTable.set(topic, mqs);
      },
      doRebalance: async () => {
        if (this.state === 'RUNNING' && this.mode === 'SUBSCRIBE') await this.rebalance!.doRebalance();
      },
      persistConsumerOffset: () => this.offsetStore!.persistAll(this.assignment(), true),
      resetOffset: async (topic, offsets) => {
        for (const [mq, offset] of offsets) {
          const a = this.assigned.get(mqKey(mq));
          if (mq.topic !== topic || !a) continue;
          this.offsetStore!.updateOffset(mq, offset, false);
          this.clearCacheOf(a);
          a.task.cancelled = true;
          a.seekOffset = offset;
          a.task = { cancelled: false };
          this.startLoop(a);
        }
      },
      runningInfo: () =>
        runningInfoOf(
          {
            consumerGroup: this.group,
            messageModel: this.config.messageModel,
            PROP_CONSUME_TYPE: 'CONSUME_ACTIVELY',
          },
          this.rebalance!,
          this.offsetStore!,
        ),
      consumerStatus: (topic) => this.offsetStore?.offsetsOf(topic) ?? [],
    };
  }

  // ---- the pull loop of one queue ----

  private subscriptionOf(topic: string): SubscriptionData {
    return this.rebalance!.subscriptionInner.get(topic) ?? buildSubscriptionData(topic, '*', 'TAG', 0);
  }

  private startLoop(a: Assigned): void {
    this.pullLoop(a, a.task).catch((err: unknown) =>
      this.log.error({ mq: a.mq, err: errorMessage(err) }, 'pull loop failed'),
    );
  }

  private async pullLoop(a: Assigned, task: { cancelled: boolean }): Promise<void> {
    const o = this.opts;
    while (!task.cancelled && this.state === 'RUNNING') {
      if (a.paused) {
        await sleep(PAUSE_DELAY_MILLIS, undefined, { ref: false });
        continue;
      }
      if (
        this.cache.messageCount >= o.pullThresholdForAll ||
        a.pq.msgCount > o.pullThresholdForQueue ||
        a.pq.msgSize > o.pullThresholdSizeForQueue * 1024 * 1024
      ) {
        await sleep(FLOW_CONTROL_DELAY_MILLIS, undefined, { ref: false });
        continue;
      }
      let offset: number;
      if (a.seekOffset >= 0) {
        offset = a.seekOffset;
        a.consumeOffset = offset;
        a.seekOffset = -1;
      } else if (a.pullOffset >= 0) {
        offset = a.pullOffset;
      } else {
        try {
          offset = await computePullFromWhere(this.instance!, this.offsetStore!, this.config, a.mq);
        } catch (err) {
          this.log.warn({ mq: a.mq, err: errorMessage(err) }, 'cannot compute the pull offset');
          offset = -1;
        }
        if (offset < 0) {
          await sleep(this.config.client.pullTimeDelayMillsWhenException, undefined, { ref: false });
          continue;
        }
        if (a.consumeOffset < 0) a.consumeOffset = offset;
      }
      let result;
      try {
        result = await this.pullApi!.pull({
          mq: a.mq,
          subscription: this.subscriptionOf(a.mq.topic),
          offset,
          maxNums: o.pullBatchSize,
          commitOffset: undefined,
          suspendTimeoutMillis: BROKER_SUSPEND_MAX_TIME_MILLIS,
          timeoutMillis: CONSUMER_TIMEOUT_MILLIS_WHEN_SUSPEND,
          // Assigned queues have no heartbeat subscription on the broker.
          postSubscription: true,
          litePull: true,
        });
      } catch (err) {
        if (task.cancelled || this.state !== 'RUNNING') return;
        this.log.warn({ mq: a.mq, err: errorMessage(err) }, 'pull failed');
        await sleep(this.config.client.pullTimeDelayMillsWhenException, undefined, { ref: false });
        continue;
      }
      if (task.cancelled || a.pq.dropped) return;
      if (result.status === PullStatus.OFFSET_ILLEGAL) {
        this.log.warn(
          { mq: a.mq, offset, next: result.nextBeginOffset },
          'the pull offset is illegal, moving on',
        );
      }
      a.pullOffset = result.nextBeginOffset;
      if (result.status === PullStatus.FOUND && result.msgFoundList.length > 0) {
        a.pq.putMessages(result.msgFoundList);
        this.cache.put({ msgs: result.msgFoundList, mq: a.mq, pq: a.pq });
      }
    }
  }
}
