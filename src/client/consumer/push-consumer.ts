/**
 * PushConsumer (upstream's DefaultMQPushConsumer with a concurrent listener): the consumer pulls
 * and calls the listener for you.
 *
 * Per owned queue one pull loop: PULL_MESSAGE with long polling (held by the broker up to 15 s,
 * call timeout 30 s), paused while the queue holds more than pullThresholdForQueue messages or
 * pullThresholdSizeForQueue MiB or spans more than consumeConcurrentlyMaxSpan offsets. Found
 * messages go to the consume service (at most consumeThreadMax listener calls at once); offsets
 * advance only past messages whose listener returned and are committed every
 * persistConsumerOffsetInterval and at shutdown, to the broker (CLUSTERING) or a local file
 * (BROADCASTING). Queue ownership comes from the rebalance (rebalance-impl.ts). CLUSTERING
 * consumers also subscribe to their group's retry topic, as upstream.
 */
import { getLogger, type Logger } from '../../common/logger.js';
import { RmqError, ErrorCode, errorMessage } from '../../common/errors.js';
import { RETRY_GROUP_TOPIC_PREFIX, retryTopic } from '../../common/message/message-const.js';
import { ResponseCode } from '../../protocol/response-code.js';
import { MASTER_ID } from '../../protocol/route-data.js';
import { buildSubscriptionData, type SubscriptionData } from '../../protocol/heartbeat.js';
import { getOrCreateClientInstance, type ConsumerInner, type MQClientInstance } from '../client-instance.js';
import { PullStatus } from '../mq-client-api.js';
import type { MessageExt } from '../message/message-ext.js';
import type { MessageQueue } from '../message/message-queue.js';
import { topicRouteToSubscribeInfo } from '../producer/topic-publish-info.js';
import {
  ConsumeMessageConcurrentlyService,
  type MessageListenerConcurrently,
} from './consume-concurrently-service.js';
import {
  positiveInt,
  resolveConsumerOptions,
  type ConsumerConfig,
  type ConsumerOptions,
} from './consumer-options.js';
import { LocalFileOffsetStore, localOffsetFile } from './local-file-offset-store.js';
import { RemoteBrokerOffsetStore, type OffsetStore } from './offset-store.js';
import { PullAPIWrapper } from './pull-api-wrapper.js';
import { RebalanceImpl, type PullRequest, type RebalanceHost } from './rebalance-impl.js';
import { computePullFromWhere, runningInfoOf } from './consumer-support.js';
import type { ConsumerRunningInfo } from './consumer-running-info.js';

export interface PushConsumerOptions extends ConsumerOptions {
  /** Listener calls running at once (20). */
  consumeThreadMax?: number;
  /** Messages per listener call (1). */
  consumeMessageBatchMaxSize?: number;
  /** Messages per pull (32). */
  pullBatchSize?: number;
  /** Pause between pulls of a queue, ms (0). */
  pullInterval?: number;
  /** Pulled-not-consumed messages per queue before pulling pauses (1000). */
  pullThresholdForQueue?: number;
  /** Pulled-not-consumed body MiB per queue before pulling pauses (100). */
  pullThresholdSizeForQueue?: number;
  /** Offset span of unconsumed messages per queue before pulling pauses (2000). */
  consumeConcurrentlyMaxSpan?: number;
  /** Deliveries before a message goes to the DLQ; -1 = the broker's default (16). */
  maxReconsumeTimes?: number;
  /** Send the subscription with every pull instead of relying on the heartbeat (false). */
  postSubscriptionWhenPull?: boolean;
  /** At shutdown, wait this long for listener calls in progress (0 = do not wait). */
  awaitTerminationMillisWhenShutdown?: number;
  /** Failed messages the broker would not take back are consumed again here after this delay (5000). */
  localRetryDelayMs?: number;
}

const PULL_TIME_DELAY_MILLS_WHEN_FLOW_CONTROL = 50;
const PULL_TIME_DELAY_MILLS_WHEN_SUSPEND = 1000;
const PULL_TIME_DELAY_MILLS_WHEN_BROKER_FLOW_CONTROL = 20;
const BROKER_SUSPEND_MAX_TIME_MILLIS = 15_000;
const CONSUMER_TIMEOUT_MILLIS_WHEN_SUSPEND = 30_000;
const OFFSET_MOVED_DELAY_MILLIS = 10_000;
const MIB = 1024 * 1024;

export class PushConsumer {
  readonly config: ConsumerConfig;
  readonly group: string;
  private readonly log: Logger;
  private readonly opts: Required<Omit<PushConsumerOptions, keyof ConsumerOptions>>;
  private readonly subscriptions = new Map<string, string>();
  private listener: MessageListenerConcurrently | undefined;
  private state: 'CREATED' | 'RUNNING' | 'SHUTDOWN' = 'CREATED';
  private paused = false;
  private instance: MQClientInstance | undefined;
  private rebalance: RebalanceImpl | undefined;
  private offsetStore: OffsetStore | undefined;
  private pullApi: PullAPIWrapper | undefined;
  private consumeService: ConsumeMessageConcurrentlyService | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private flowControlTimes = 0;
  private startTimestamp = 0;

  constructor(options: PushConsumerOptions) {
    this.config = resolveConsumerOptions(options);
    this.group = this.config.consumerGroup;
    this.log = getLogger('client.push-consumer').child({ group: this.group });
    this.opts = {
      consumeThreadMax: positiveInt('consumeThreadMax', options.consumeThreadMax, 20, 1, 1000),
      consumeMessageBatchMaxSize: positiveInt(
        'consumeMessageBatchMaxSize',
        options.consumeMessageBatchMaxSize,
        1,
        1,
        1024,
      ),
      pullBatchSize: positiveInt('pullBatchSize', options.pullBatchSize, 32, 1, 1024),
      pullInterval: positiveInt('pullInterval', options.pullInterval, 0, 0, 65535),
      pullThresholdForQueue: positiveInt(
        'pullThresholdForQueue',
        options.pullThresholdForQueue,
        1000,
        1,
        65535,
      ),
      pullThresholdSizeForQueue: positiveInt(
        'pullThresholdSizeForQueue',
        options.pullThresholdSizeForQueue,
        100,
        1,
        1024,
      ),
      consumeConcurrentlyMaxSpan: positiveInt(
        'consumeConcurrentlyMaxSpan',
        options.consumeConcurrentlyMaxSpan,
        2000,
        1,
        65535,
      ),
      maxReconsumeTimes: positiveInt('maxReconsumeTimes', options.maxReconsumeTimes, -1, -1, 16),
      postSubscriptionWhenPull: options.postSubscriptionWhenPull ?? false,
      awaitTerminationMillisWhenShutdown: positiveInt(
        'awaitTerminationMillisWhenShutdown',
        options.awaitTerminationMillisWhenShutdown,
        0,
        0,
      ),
      localRetryDelayMs: positiveInt('localRetryDelayMs', options.localRetryDelayMs, 5000, 0),
    };
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

  registerMessageListener(listener: MessageListenerConcurrently): void {
    this.listener = listener;
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
    this.offsetStore =
      this.config.messageModel === 'BROADCASTING'
        ? new LocalFileOffsetStore(
            localOffsetFile(this.config.offsetStoreDir, instance.clientId, this.group),
            log,
          )
        : new RemoteBrokerOffsetStore(instance, this.group, log);
    await this.offsetStore.load();
    this.rebalance = new RebalanceImpl(
      instance,
      this.group,
      this.config.messageModel,
      this.config.allocateMessageQueueStrategy,
      this.rebalanceHost(),
      log,
    );
    for (const [topic, expr] of this.subscriptions)
      this.rebalance.subscriptionInner.set(topic, buildSubscriptionData(topic, expr));
    if (this.config.messageModel === 'CLUSTERING') {
      const retry = retryTopic(this.group);
      this.rebalance.subscriptionInner.set(retry, buildSubscriptionData(retry, '*'));
    }
    this.pullApi = new PullAPIWrapper(instance, this.group);
    const offsetStore = this.offsetStore;
    this.consumeService = new ConsumeMessageConcurrentlyService(
      {
        group: this.group,
        messageModel: this.config.messageModel,
        offsetStore,
        sendMessageBack: (msg, delayLevel) => this.sendMessageBack(msg, delayLevel),
      },
      listener,
      {
        consumeThreadMax: this.opts.consumeThreadMax,
        consumeMessageBatchMaxSize: this.opts.consumeMessageBatchMaxSize,
        localRetryDelayMs: this.opts.localRetryDelayMs,
      },
      log,
    );
    instance.registerConsumer(this.inner());
    this.instance = instance;
    this.state = 'RUNNING';
    this.startTimestamp = Date.now();
    instance.start();
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
    await this.consumeService!.shutdown(this.opts.awaitTerminationMillisWhenShutdown);
    this.rebalance!.dropAll();
    await this.persistConsumerOffset(false);
    await this.instance!.unregisterConsumer(this.group);
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
        if (this.state === 'RUNNING') await this.rebalance!.doRebalance();
      },
      persistConsumerOffset: () => this.persistConsumerOffset(true),
      resetOffset: (topic, offsets) => this.resetOffset(topic, offsets),
      runningInfo: () => this.runningInfo(),
      consumerStatus: (topic) => this.offsetStore?.offsetsOf(topic) ?? [],
    };
  }

  private rebalanceHost(): RebalanceHost {
    return {
      consumeType: 'CONSUME_PASSIVELY',
      computePullFromWhere: (mq) => computePullFromWhere(this.instance!, this.offsetStore!, this.config, mq),
      removeUnnecessaryMessageQueue: async (mq) => {
        await this.offsetStore!.persist(mq);
        this.offsetStore!.removeOffset(mq);
        return true;
      },
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
      store.updateOffset(mq, offset, false);
      await rebalance.removeProcessQueue(mq);
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
        PROP_CONSUMEORDERLY: 'false',
        PROP_CONSUME_TYPE: 'CONSUME_PASSIVELY',
        PROP_CONSUMER_START_TIMESTAMP: String(this.startTimestamp),
        pullBatchSize: String(this.opts.pullBatchSize),
        consumeMessageBatchMaxSize: String(this.opts.consumeMessageBatchMaxSize),
      },
      this.rebalance!,
      this.offsetStore!,
    );
  }

  /** The seam for retries: hand a failed message to the broker (CONSUMER_SEND_MSG_BACK). */
  private async sendMessageBack(msg: MessageExt, delayLevel: number): Promise<boolean> {
    const instance = this.instance!;
    const addr = instance.findBrokerAddressInSubscribe(msg.brokerName, MASTER_ID, true)?.addr;
    if (!addr) return false;
    try {
      const max = this.opts.maxReconsumeTimes === -1 ? 16 : this.opts.maxReconsumeTimes;
      await instance.api.consumerSendMessageBack(addr, msg, this.group, delayLevel, max);
      return true;
    } catch (err) {
      this.log.warn(
        { msgId: msg.msgId, err: errorMessage(err) },
        'send message back failed; consuming it again locally',
      );
      return false;
    }
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
    if (
      pq.msgCount > o.pullThresholdForQueue ||
      pq.msgSize > o.pullThresholdSizeForQueue * MIB ||
      pq.maxSpan > o.consumeConcurrentlyMaxSpan
    ) {
      if (this.flowControlTimes++ % 1000 === 0) {
        this.log.warn(
          { mq, count: pq.msgCount, bytes: pq.msgSize, span: pq.maxSpan },
          'flow control: too many unconsumed messages',
        );
      }
      return this.pullLater(req, PULL_TIME_DELAY_MILLS_WHEN_FLOW_CONTROL);
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
      result = await this.pullApi!.pull({
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
      case PullStatus.FOUND:
        req.nextOffset = result.nextBeginOffset;
        if (result.msgFoundList.length > 0) {
          pq.putMessages(result.msgFoundList);
          this.consumeService!.submit(result.msgFoundList, pq, mq);
        } else if (pq.msgCount === 0) {
          // Everything pulled was filtered out by tag: nothing to wait for below this offset.
          this.offsetStore!.updateOffset(mq, req.nextOffset, true);
        }
        if (o.pullInterval > 0) return this.pullLater(req, o.pullInterval);
        return this.pullNow(req);
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
}
