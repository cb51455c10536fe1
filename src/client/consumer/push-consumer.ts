/**
 * PushConsumer (upstream's DefaultMQPushConsumer): the consumer pulls and calls the listener for
 * you, a concurrent one (registerMessageListener) or an orderly one (registerMessageListenerOrderly).
 *
 * Per owned queue one pull loop: PULL_MESSAGE with long polling (held by the broker up to 15 s,
 * call timeout 30 s), paused while the queue holds more than pullThresholdForQueue messages or
 * pullThresholdSizeForQueue MiB or (concurrent listeners) spans more than
 * consumeConcurrentlyMaxSpan offsets. When flow control would let the next pull go even with a
 * found batch counted, that pull is sent before the batch is decoded (upstream decodes first; its
 * threads overlap the two anyway, while here the broker would idle during the decode). Found
 * messages go to the consume service (at most
 * consumeThreadMax listener calls at once); offsets advance only past messages whose listener
 * returned and are committed every persistConsumerOffsetInterval and at shutdown, to the broker
 * (CLUSTERING) or a local file (BROADCASTING). Queue ownership comes from the rebalance
 * (rebalance-impl.ts). CLUSTERING consumers also subscribe to their group's retry topic, as
 * upstream. Failed messages go back to the broker for a later retry (message-back.ts).
 *
 * Orderly consumers in CLUSTERING mode pull and consume a queue only while they hold its broker
 * lock (taken by the rebalance, renewed by the orderly service); when a queue leaves, the batch in
 * progress is finished (up to 1 s), its offset committed and only then the lock given back, so the
 * next owner starts exactly where this one stopped. A queue another consumer still holds is tried
 * again after 1 s, 2 s, 4 s ... (up to the 20 s rebalance period).
 */
import { getLogger, type Logger } from '../../common/logger.js';
import { RmqError, ErrorCode, errorMessage } from '../../common/errors.js';
import { RETRY_GROUP_TOPIC_PREFIX, retryTopic } from '../../common/message/message-const.js';
import { ResponseCode } from '../../protocol/response-code.js';
import { buildSubscriptionData, type SubscriptionData } from '../../protocol/heartbeat.js';
import { getOrCreateClientInstance, type ConsumerInner, type MQClientInstance } from '../client-instance.js';
import { PullStatus, type RawPullResult } from '../mq-client-api.js';
import type { MessageQueue } from '../message/message-queue.js';
import { topicRouteToSubscribeInfo } from '../producer/topic-publish-info.js';
import {
  ConsumeMessageConcurrentlyService,
  type MessageListenerConcurrently,
} from './consume-concurrently-service.js';
import { ConsumeMessageOrderlyService, type MessageListenerOrderly } from './consume-orderly-service.js';
import type { ConsumeMessageService, ConsumeServiceHost } from './consume-message-service.js';
import { resolveConsumerOptions, type ConsumerConfig } from './consumer-options.js';
import {
  effectiveMaxReconsumeTimes,
  resolvePushConsumerSettings,
  type PushConsumerOptions,
  type PushConsumerSettings,
} from './push-consumer-options.js';
import { MessageBack } from './message-back.js';
import type { OffsetStore } from './offset-store.js';
import { PullAPIWrapper } from './pull-api-wrapper.js';
import type { FlowLimits } from './process-queue.js';
import type { RebalanceImpl, PullRequest, RebalanceHost } from './rebalance-impl.js';
import { openConsumerState } from './consumer-state.js';
import { computePullFromWhere, runningInfoOf } from './consumer-support.js';
import type { ConsumerRunningInfo } from './consumer-running-info.js';
import { consumeMessageDirectly, type DirectListener as Listener } from './consume-message-directly.js';

export type { PushConsumerOptions };

const PULL_TIME_DELAY_MILLS_WHEN_FLOW_CONTROL = 50;
const PULL_TIME_DELAY_MILLS_WHEN_SUSPEND = 1000;
const PULL_TIME_DELAY_MILLS_WHEN_BROKER_FLOW_CONTROL = 20;
const BROKER_SUSPEND_MAX_TIME_MILLIS = 15_000;
const CONSUMER_TIMEOUT_MILLIS_WHEN_SUSPEND = 30_000;
const OFFSET_MOVED_DELAY_MILLIS = 10_000;
const MIB = 1024 * 1024;
/** A queue leaving an orderly consumer waits this long for the batch being consumed. */
const ORDERLY_HANDOVER_WAIT_MS = 1000;
const LOCK_RETRY_FIRST_MS = 1000;
const LOCK_RETRY_MAX_MS = 20_000;

export class PushConsumer {
  readonly config: ConsumerConfig;
  readonly group: string;
  private readonly log: Logger;
  private readonly opts: PushConsumerSettings;
  private readonly subscriptions = new Map<string, string>();
  private listener: Listener | undefined;
  private state: 'CREATED' | 'RUNNING' | 'SHUTDOWN' = 'CREATED';
  private paused = false;
  private instance: MQClientInstance | undefined;
  private rebalance: RebalanceImpl | undefined;
  private offsetStore: OffsetStore | undefined;
  private pullApi: PullAPIWrapper | undefined;
  private consumeService: ConsumeMessageService | undefined;
  private orderlyService: ConsumeMessageOrderlyService | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private lockRetryMs = 0;
  private lockRetryTimer: NodeJS.Timeout | undefined;
  private flowControlTimes = 0;
  /** Set at start, once the listener says whether consumption is orderly. */
  private flowLimits: FlowLimits = { count: 0, bytes: 0, span: 0 };
  private startTimestamp = 0;

  constructor(options: PushConsumerOptions) {
    this.config = resolveConsumerOptions(options);
    this.group = this.config.consumerGroup;
    this.log = getLogger('client.push-consumer').child({ group: this.group });
    this.opts = resolvePushConsumerSettings(options);
  }

  get clientId(): string | undefined {
    return this.instance?.clientId;
  }

  /** Subscribes to a topic: `*` for everything or `TagA || TagB`. May be called after start. */
  subscribe(topic: string, subExpression = '*'): void {
    const sub = buildSubscriptionData(topic, subExpression);
    this.subscriptions.set(topic, subExpression);
    if (this.state === 'RUNNING') {
      this.rebalance!.subscriptionInner.set(topic, sub);
      this.afterSubscriptionChange(topic).catch((err: unknown) =>
        this.log.warn({ topic, err: errorMessage(err) }, 'subscribing failed'),
      );
    }
  }

  unsubscribe(topic: string): void {
    this.subscriptions.delete(topic);
    this.rebalance?.subscriptionInner.delete(topic);
  }

  /** A concurrent listener: messages of a queue may be consumed in parallel and out of order. */
  registerMessageListener(listener: MessageListenerConcurrently): void {
    this.listener = { orderly: false, fn: listener };
  }

  /**
   * An orderly listener: each queue's messages one batch at a time, in queue order; in CLUSTERING
   * mode only by the consumer holding the queue's broker lock.
   */
  registerMessageListenerOrderly(listener: MessageListenerOrderly): void {
    this.listener = { orderly: true, fn: listener };
  }

  /** Whether the registered listener is orderly. */
  get consumeOrderly(): boolean {
    return this.listener?.orderly ?? false;
  }

  /** Stops pulling (messages already pulled are still consumed) until resume(). */
  suspend(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  /** The queues this consumer owns right now. */
  assignment(): MessageQueue[] {
    return this.rebalance?.assignedQueues() ?? [];
  }

  async fetchSubscribeMessageQueues(topic: string): Promise<MessageQueue[]> {
    if (!this.instance) throw new RmqError(ErrorCode.CLIENT_STATE, 'the consumer is not started');
    const route = await this.instance.api.getTopicRouteInfo(topic);
    return topicRouteToSubscribeInfo(topic, route);
  }

  async start(): Promise<void> {
    if (this.state !== 'CREATED') {
      throw new RmqError(
        ErrorCode.CLIENT_STATE,
        `The PushConsumer service state is ${this.state}, not CREATED`,
      );
    }
    const listener = this.listener;
    if (!listener)
      throw new RmqError(
        ErrorCode.CLIENT_STATE,
        'messageListener is null: call registerMessageListener before start',
      );
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
    if (this.config.messageModel === 'CLUSTERING') {
      const retry = retryTopic(this.group);
      this.rebalance.subscriptionInner.set(retry, buildSubscriptionData(retry, '*'));
    }
    this.pullApi = new PullAPIWrapper(instance, this.group);
    const maxReconsumeTimes = effectiveMaxReconsumeTimes(this.opts);
    const messageBack = new MessageBack(instance, this.group, maxReconsumeTimes, log);
    const host: ConsumeServiceHost = {
      group: this.group,
      messageModel: this.config.messageModel,
      offsetStore: this.offsetStore,
      sendMessageBack: (msg, delayLevel) => messageBack.send(msg, delayLevel),
    };
    const o = this.opts;
    if (listener.orderly) {
      const rebalance = this.rebalance;
      this.orderlyService = new ConsumeMessageOrderlyService(
        { ...host, lockQueue: (mq) => rebalance.lock(mq), lockAll: () => rebalance.lockAll() },
        listener.fn,
        {
          consumeThreadMax: o.consumeThreadMax,
          consumeMessageBatchMaxSize: o.consumeMessageBatchMaxSize,
          suspendCurrentQueueTimeMillis: o.suspendCurrentQueueTimeMillis,
          maxReconsumeTimes,
        },
        log,
      );
      this.consumeService = this.orderlyService;
    } else {
      this.consumeService = new ConsumeMessageConcurrentlyService(
        host,
        listener.fn,
        {
          consumeThreadMax: o.consumeThreadMax,
          consumeMessageBatchMaxSize: o.consumeMessageBatchMaxSize,
          localRetryDelayMs: o.localRetryDelayMs,
        },
        log,
      );
    }
    this.flowLimits = {
      count: o.pullThresholdForQueue,
      bytes: o.pullThresholdSizeForQueue * MIB,
      span: listener.orderly ? Infinity : o.consumeConcurrentlyMaxSpan,
    };
    instance.registerConsumer(this.inner());
    this.instance = instance;
    this.state = 'RUNNING';
    this.startTimestamp = Date.now();
    instance.start();
    this.consumeService.start();
    await Promise.all(
      [...this.rebalance.subscriptionInner.keys()].map((t) => instance.updateTopicRouteInfoFromNameServer(t)),
    );
    await instance.sendHeartbeatToAllBrokers();
    instance.rebalanceImmediately();
  }

  async shutdown(): Promise<void> {
    if (this.state !== 'RUNNING') return;
    this.state = 'SHUTDOWN';
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    clearTimeout(this.lockRetryTimer);
    const awaitMs = this.opts.awaitTerminationMillisWhenShutdown;
    const orderly = this.orderlyService;
    await this.consumeService!.shutdown(orderly ? Math.max(awaitMs, ORDERLY_HANDOVER_WAIT_MS) : awaitMs);
    const rebalance = this.rebalance!;
    rebalance.dropAll();
    await this.persistConsumerOffset(false);
    if (orderly && this.lockingQueues) {
      // A queue whose batch is still being consumed keeps its lock until the broker expires it.
      await rebalance.unlock(
        rebalance.assignedQueues().filter((mq) => !orderly.isConsuming(mq)),
        false,
      );
    }
    await this.instance!.unregisterConsumer(this.group);
  }

  /** Orderly consumers in CLUSTERING mode lock their queues on the brokers. */
  private get lockingQueues(): boolean {
    return this.consumeOrderly && this.config.messageModel === 'CLUSTERING';
  }

  private async afterSubscriptionChange(topic: string): Promise<void> {
    const instance = this.instance!;
    await instance.updateTopicRouteInfoFromNameServer(topic);
    await instance.sendHeartbeatToAllBrokers();
    instance.rebalanceImmediately();
  }

  private async persistConsumerOffset(oneway: boolean): Promise<void> {
    if (!this.offsetStore || !this.rebalance) return;
    await this.offsetStore.persistAll(this.rebalance.assignedQueues(), oneway);
  }

  // ---- what the client instance and the rebalance need ----

  private inner(): ConsumerInner {
    return {
      group: this.group,
      messageModel: this.config.messageModel,
      consumeType: 'CONSUME_PASSIVELY',
      consumeFromWhere: this.config.consumeFromWhere,
      subscriptions: (): SubscriptionData[] => [...(this.rebalance?.subscriptionInner.values() ?? [])],
      updateTopicSubscribeInfo: (topic, mqs) => {
        if (this.rebalance?.subscriptionInner.has(topic))
          this.rebalance.topicSubscribeInfoTable.set(topic, mqs);
      },
      doRebalance: async () => {
        if (this.state !== 'RUNNING') return;
        await this.rebalance!.doRebalance();
        this.retryLocksSoon(this.rebalance!.lockFailures > 0);
      },
      persistConsumerOffset: () => this.persistConsumerOffset(true),
      resetOffset: (topic, offsets) => this.resetOffset(topic, offsets),
      runningInfo: () => this.runningInfo(),
      consumerStatus: (topic) => this.offsetStore?.offsetsOf(topic) ?? [],
      consumeMessageDirectly: (msg, brokerName) =>
        consumeMessageDirectly(this.listener!, this.group, msg, brokerName),
    };
  }

  /**
   * Queues another consumer still holds (it is finishing its batch) are asked for again soon,
   * backing off up to the rebalance period, instead of only at the next periodic rebalance.
   */
  private retryLocksSoon(failed: boolean): void {
    if (!failed) {
      this.lockRetryMs = 0;
      return;
    }
    if (this.lockRetryTimer || this.state !== 'RUNNING') return;
    this.lockRetryMs = Math.min(
      LOCK_RETRY_MAX_MS,
      this.lockRetryMs ? this.lockRetryMs * 2 : LOCK_RETRY_FIRST_MS,
    );
    this.lockRetryTimer = setTimeout(() => {
      this.lockRetryTimer = undefined;
      if (this.state === 'RUNNING') this.instance!.rebalanceImmediately();
    }, this.lockRetryMs);
    this.lockRetryTimer.unref();
  }

  /** A queue leaves: commit its offset and forget it; orderly, also give its lock back. */
  private async removeUnnecessaryMessageQueue(mq: MessageQueue): Promise<boolean> {
    const store = this.offsetStore!;
    const orderly = this.orderlyService;
    if (orderly && this.lockingQueues) {
      // The ProcessQueue is dropped already: wait for the batch in progress, whose offset counts.
      if (!(await orderly.waitIdle(mq, ORDERLY_HANDOVER_WAIT_MS))) {
        this.log.warn({ mq }, 'the queue is still being consumed; it leaves at the next rebalance');
        return false;
      }
      await store.persist(mq);
      store.removeOffset(mq);
      await this.rebalance!.unlock([mq], false);
      return true;
    }
    await store.persist(mq);
    store.removeOffset(mq);
    return true;
  }

  private rebalanceHost(): RebalanceHost {
    return {
      consumeType: 'CONSUME_PASSIVELY',
      lockQueues: this.lockingQueues,
      computePullFromWhere: (mq) => computePullFromWhere(this.instance!, this.offsetStore!, this.config, mq),
      removeUnnecessaryMessageQueue: (mq) => this.removeUnnecessaryMessageQueue(mq),
      removeDirtyOffset: (mq) => this.offsetStore!.removeOffset(mq),
      dispatchPullRequests: (requests) => {
        for (const r of requests) this.pullNow(r);
      },
    };
  }

  private async resetOffset(topic: string, offsets: [MessageQueue, number][]): Promise<void> {
    const rebalance = this.rebalance;
    const store = this.offsetStore;
    if (!rebalance || !store) return;
    for (const [mq, offset] of offsets) {
      if (mq.topic !== topic) continue;
      // Hand the queue over first (a batch in progress commits on the way), then set the new offset.
      await rebalance.removeProcessQueue(mq);
      store.updateOffset(mq, offset, false);
      await store.persist(mq);
      store.removeOffset(mq);
    }
    this.instance!.rebalanceImmediately();
  }

  private runningInfo(): ConsumerRunningInfo {
    return runningInfoOf(
      {
        consumerGroup: this.group,
        messageModel: this.config.messageModel,
        consumeFromWhere: this.config.consumeFromWhere,
        consumeType: 'CONSUME_PASSIVELY',
        PROP_NAMESERVER_ADDR: this.config.client.namesrvAddrs.join(';'),
        PROP_THREADPOOL_CORE_SIZE: String(this.opts.consumeThreadMax),
        PROP_CONSUMEORDERLY: String(this.consumeOrderly),
        PROP_CONSUME_TYPE: 'CONSUME_PASSIVELY',
        PROP_CONSUMER_START_TIMESTAMP: String(this.startTimestamp),
        pullBatchSize: String(this.opts.pullBatchSize),
        consumeMessageBatchMaxSize: String(this.opts.consumeMessageBatchMaxSize),
      },
      this.rebalance!,
      this.offsetStore!,
    );
  }

  // ---- the pull loop ----

  private pullLater(req: PullRequest, delayMs: number): void {
    if (this.state !== 'RUNNING') return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.pullNow(req);
    }, delayMs);
    this.timers.add(t);
  }

  /** The next pull of a queue, as a new chain: awaiting it here would grow one promise chain forever. */
  private pullNow(req: PullRequest): void {
    this.pullMessage(req).catch((err: unknown) =>
      this.log.error({ mq: req.mq, err: errorMessage(err) }, 'pull loop failed'),
    );
  }

  private async pullMessage(req: PullRequest): Promise<void> {
    const { pq, mq } = req;
    if (pq.dropped || this.state !== 'RUNNING') return;
    pq.lastPullTimestamp = Date.now();
    const o = this.opts;
    if (this.paused) return this.pullLater(req, PULL_TIME_DELAY_MILLS_WHEN_SUSPEND);
    if (pq.overFlowLimit(this.flowLimits, 0, 0, 0)) {
      if (this.flowControlTimes++ % 1000 === 0) {
        this.log.warn(
          { mq, count: pq.msgCount, bytes: pq.msgSize, span: pq.maxSpan },
          'flow control: too many unconsumed messages',
        );
      }
      return this.pullLater(req, PULL_TIME_DELAY_MILLS_WHEN_FLOW_CONTROL);
    }
    if (this.lockingQueues && !pq.locked) {
      // The lock is renewed (or taken again) by the orderly service; pull once it is held.
      return this.pullLater(req, this.config.client.pullTimeDelayMillsWhenException);
    }
    const sub = this.rebalance!.subscriptionInner.get(mq.topic);
    if (!sub) return this.pullLater(req, this.config.client.pullTimeDelayMillsWhenException);
    let commitOffset: number | undefined;
    if (this.config.messageModel === 'CLUSTERING') {
      const o = this.offsetStore!.readOffsetFromMemory(mq);
      if (o > 0) commitOffset = o;
    }
    let result;
    try {
      result = await this.pullApi!.pullRaw({
        mq,
        subscription: sub,
        offset: req.nextOffset,
        maxNums: o.pullBatchSize,
        commitOffset,
        suspendTimeoutMillis: BROKER_SUSPEND_MAX_TIME_MILLIS,
        timeoutMillis: CONSUMER_TIMEOUT_MILLIS_WHEN_SUSPEND,
        postSubscription: o.postSubscriptionWhenPull,
      });
    } catch (err) {
      if (this.state !== 'RUNNING' || pq.dropped) return;
      if (!mq.topic.startsWith(RETRY_GROUP_TOPIC_PREFIX))
        this.log.warn({ mq, err: errorMessage(err) }, 'pull failed');
      const brokerBusy = err instanceof RmqError && err.responseCode === ResponseCode.FLOW_CONTROL;
      return this.pullLater(
        req,
        brokerBusy
          ? PULL_TIME_DELAY_MILLS_WHEN_BROKER_FLOW_CONTROL
          : this.config.client.pullTimeDelayMillsWhenException,
      );
    }
    if (pq.dropped || this.state !== 'RUNNING') return;
    switch (result.status) {
      case PullStatus.FOUND: {
        const from = req.nextOffset;
        req.nextOffset = result.nextBeginOffset;
        const raw = result;
        // The next pull goes first when flow control allows it with this batch counted (see the
        // class comment): it leaves in this tick's channel flush, queued before the decode.
        const bytes = raw.body?.length ?? 0;
        const span = raw.nextBeginOffset - 1 - (pq.minOffset ?? from);
        if (o.pullInterval === 0 && !pq.overFlowLimit(this.flowLimits, o.pullBatchSize, bytes, span)) {
          this.pullNow(req);
          process.nextTick(() => {
            try {
              this.takeFound(req, raw, sub);
            } catch (err) {
              // As a throw inside the pull loop would be: logged, the loop goes on.
              this.log.error({ mq, err: errorMessage(err) }, 'pull loop failed');
            }
          });
          return;
        }
        this.takeFound(req, raw, sub);
        if (o.pullInterval > 0) return this.pullLater(req, o.pullInterval);
        return this.pullNow(req);
      }
      case PullStatus.NO_NEW_MSG:
      case PullStatus.NO_MATCHED_MSG:
        req.nextOffset = result.nextBeginOffset;
        if (pq.msgCount === 0) this.offsetStore!.updateOffset(mq, req.nextOffset, true);
        return this.pullNow(req);
      case PullStatus.OFFSET_ILLEGAL: {
        this.log.warn(
          { mq, offset: req.nextOffset, next: result.nextBeginOffset },
          'the pull offset is illegal, resetting',
        );
        req.nextOffset = result.nextBeginOffset;
        pq.dropped = true;
        const t = setTimeout(() => {
          this.timers.delete(t);
          this.offsetStore!.updateOffset(mq, req.nextOffset, false);
          this.offsetStore!.persist(mq)
            .then(() => this.rebalance!.removeProcessQueue(mq))
            .catch((err: unknown) =>
              this.log.warn({ mq, err: errorMessage(err) }, 'resetting the offset failed'),
            );
        }, OFFSET_MOVED_DELAY_MILLIS);
        this.timers.add(t);
        return;
      }
    }
  }

  /** Decodes a FOUND answer and hands its messages to the queue and the listener. */
  private takeFound(req: PullRequest, raw: RawPullResult, sub: SubscriptionData): void {
    const { pq, mq } = req;
    if (pq.dropped || this.state !== 'RUNNING') return;
    const msgs = this.pullApi!.processPullResult(mq, raw, sub).msgFoundList;
    if (msgs.length > 0) {
      pq.putMessages(msgs);
      this.consumeService!.submit(msgs, pq, mq);
    } else if (pq.msgCount === 0) {
      // Everything pulled was filtered out by tag: nothing to wait for below this offset.
      this.offsetStore!.updateOffset(mq, raw.nextBeginOffset, true);
    }
  }
}
