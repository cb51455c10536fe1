/**
 * Producer (upstream's DefaultMQProducer): sends messages to a topic's queues.
 *
 * - `send(msg)`: round robin over the topic's writable queues, avoiding brokers that failed or
 *   answered slowly (mq-fault-strategy.ts); a failure is retried on another queue up to
 *   retryTimesWhenSendFailed times within sendMsgTimeout. `send(msgs[])` sends one batch.
 * - `send(msg, mq)` and `send(msg, selector, arg)` pick the queue (ordered messages); no retry.
 * - `sendAsync(msg, callback)` reports through a callback (retryTimesWhenSendAsyncFailed);
 *   `sendOneway(msg)` resolves once the request is written.
 * - A topic without a route is sent through the auto-create template (TBW102): the broker creates
 *   it with defaultTopicQueueNums queues.
 *
 * Single messages go as SEND_MESSAGE_V2, batches as SEND_BATCH_MESSAGE. Each message gets a
 * UNIQ_KEY (the SendResult msgId); bodies of compressMsgBodyOverHowmuch bytes or more are zlib-
 * compressed with the COMPRESSED sysflag. Attempts and retries run in send-engine.ts on callbacks
 * (no promise per step); with the autoBatch option, single sends of one tick travel together
 * (auto-batcher.ts).
 */
import { deflateSync } from 'node:zlib';
import { RmqError, ErrorCode, errorMessage } from '../../common/errors.js';
import { getLogger, type Logger } from '../../common/logger.js';
import { MessageProperty, RETRY_GROUP_TOPIC_PREFIX } from '../../common/message/message-const.js';
import { encodeProperties } from '../../common/message/message-properties.js';
import { uniqIdGenerator } from '../../common/message/message-id.js';
import { MessageSysFlag } from '../../common/message/message-sysflag.js';
import { isNotAllowedSendTopic, validateTopic } from '../../common/topic-validator.js';
import { RequestCode } from '../../protocol/request-code.js';
import { getOrCreateClientInstance, type MQClientInstance, type ProducerInner } from '../client-instance.js';
import type { Message } from '../message/message.js';
import { sameQueue, type MessageQueue } from '../message/message-queue.js';
import { MQFaultStrategy } from './mq-fault-strategy.js';
import { checkBatch, encodeMessageBatch } from './message-batch.js';
import type { MessageQueueSelector } from './message-queue-selector.js';
import { resolveProducerOptions, type ProducerConfig, type ProducerOptions } from './producer-options.js';
import type { SendResult, SendCallback } from './send-result.js';
import type { TopicPublishInfo } from './topic-publish-info.js';
import { SendEngine, type PreparedMessage, type SendDone, type SendHost } from './send-engine.js';
import { AutoBatcher } from './auto-batcher.js';

export type { PreparedMessage } from './send-engine.js';

export class Producer {
  readonly config: ProducerConfig;
  protected readonly log: Logger;
  protected instance: MQClientInstance | undefined;
  private state: 'CREATED' | 'RUNNING' | 'SHUTDOWN' = 'CREATED';
  private readonly topics = new Set<string>();
  private readonly publishInfo = new Map<string, TopicPublishInfo>();
  private readonly fault: MQFaultStrategy;
  private readonly engine: SendEngine;
  /** Topic names that passed validateTopic and the forbidden-topic check. */
  private readonly checkedTopics = new Set<string>();
  private readonly batcher: AutoBatcher | undefined;

  constructor(options: ProducerOptions) {
    this.config = resolveProducerOptions(options);
    this.log = getLogger('client.producer').child({ group: this.config.producerGroup });
    this.fault = new MQFaultStrategy(this.config.sendLatencyFaultEnable);
    this.engine = new SendEngine(this.sendHost());
    const ab = this.config.autoBatch;
    this.batcher = ab ? new AutoBatcher(this.engine, ab, this.config.compressMsgBodyOverHowmuch) : undefined;
  }

  /** What the send engine sees of this producer (the instance exists once started). */
  private sendHost(): SendHost {
    const instance = (): MQClientInstance => this.instance!;
    return {
      config: this.config,
      log: this.log,
      fault: this.fault,
      get instance(): MQClientInstance {
        return instance();
      },
      cachedPublishInfo: (topic) => {
        const info = this.publishInfo.get(topic);
        return info?.ok() ? info : undefined;
      },
      findPublishInfo: (topic) => this.tryToFindTopicPublishInfo(topic),
    };
  }

  /** Whether sends may be coalesced into batches (the autoBatch option), and how. */
  get autoBatch(): { maxMessages: number; maxBytes: number } | undefined {
    return this.config.autoBatch;
  }

  /** What the client instance sees of this producer. */
  protected producerInner(): ProducerInner {
    return {
      group: this.config.producerGroup,
      publishTopics: () => this.topics,
      updateTopicPublishInfo: (topic, info) => {
        if (this.topics.has(topic)) this.publishInfo.set(topic, info);
      },
    };
  }

  get clientId(): string | undefined {
    return this.instance?.clientId;
  }

  async start(): Promise<void> {
    if (this.state !== 'CREATED') {
      throw new RmqError(ErrorCode.CLIENT_STATE, `The producer service state is ${this.state}, not CREATED`);
    }
    const instance = this.acquireClientInstance();
    instance.registerProducer(this.producerInner());
    this.instance = instance;
    instance.start();
    this.state = 'RUNNING';
    await instance.sendHeartbeatToAllBrokers();
  }

  /** The client instance this producer joins: the shared one of its client id. */
  protected acquireClientInstance(): MQClientInstance {
    return getOrCreateClientInstance(this.config.client);
  }

  async shutdown(): Promise<void> {
    if (this.state !== 'RUNNING') return;
    this.state = 'SHUTDOWN';
    await this.instance?.unregisterProducer(this.config.producerGroup);
  }

  /** Sends and resolves with the broker's answer; a batch when given an array. */
  send(msg: Message | readonly Message[], timeoutMs?: number): Promise<SendResult>;
  /** Sends to one queue (no retry on another queue). */
  send(msg: Message | readonly Message[], mq: MessageQueue, timeoutMs?: number): Promise<SendResult>;
  /** Sends to the queue `selector` picks for `arg` (ordered messages; no retry on another queue). */
  send<A>(msg: Message, selector: MessageQueueSelector<A>, arg: A, timeoutMs?: number): Promise<SendResult>;
  async send<A>(
    msg: Message | readonly Message[],
    target?: number | MessageQueue | MessageQueueSelector<A>,
    arg?: A | number,
    timeoutMs?: number,
  ): Promise<SendResult> {
    this.makeSureStateOK();
    const prepared = this.prepare(msg);
    if (typeof target === 'function') {
      if (Array.isArray(msg)) {
        throw new RmqError(ErrorCode.ILLEGAL_ARGUMENT, 'a selector chooses the queue of a single message');
      }
      return this.sendSelect(
        prepared,
        msg as Message,
        target,
        arg as A,
        timeoutMs ?? this.config.sendMsgTimeout,
      );
    }
    if (typeof target === 'object') {
      const timeout = typeof arg === 'number' ? arg : this.config.sendMsgTimeout;
      return this.sendToQueue(prepared, target, timeout);
    }
    const timeout = target ?? this.config.sendMsgTimeout;
    return new Promise<SendResult>((resolve, reject) => {
      this.dispatch(msg, prepared, 'SYNC', timeout, (err, r) => (err ? reject(err) : resolve(r!)));
    });
  }

  /** Sends through the batcher when it takes the message, else on its own. */
  private dispatch(
    msg: Message | readonly Message[],
    prepared: PreparedMessage,
    mode: 'SYNC' | 'ASYNC',
    timeoutMs: number,
    done: SendDone,
  ): void {
    if (this.batcher && !Array.isArray(msg) && this.batcher.accepts(msg as Message, prepared)) {
      this.batcher.add(msg as Message, prepared, mode, timeoutMs, done);
    } else {
      this.engine.send(prepared, mode, timeoutMs, done);
    }
  }

  /** Sends without waiting in the caller; the callback gets the result or the final error. */
  sendAsync(
    msg: Message | readonly Message[],
    callback: SendCallback,
    timeoutMs = this.config.sendMsgTimeout,
  ): void {
    let prepared: PreparedMessage;
    try {
      this.makeSureStateOK();
      prepared = this.prepare(msg);
    } catch (err) {
      this.invokeCallback(() => callback.onException(err as Error));
      return;
    }
    this.dispatch(msg, prepared, 'ASYNC', timeoutMs, (err, r) => this.complete(callback, err, r));
  }

  /** Hands a send's outcome to its callback; a callback that throws is logged, not propagated. */
  private complete(callback: SendCallback, err: Error | undefined, r: SendResult | undefined): void {
    try {
      if (err) callback.onException(err);
      else callback.onSuccess(r!);
    } catch (e) {
      this.log.warn({ err: errorMessage(e) }, 'send callback threw');
    }
  }

  private invokeCallback(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'send callback threw');
    }
  }

  /** Sends without waiting for the broker: resolves once the request is written (no retry). */
  async sendOneway(msg: Message | readonly Message[], mq?: MessageQueue): Promise<void> {
    this.makeSureStateOK();
    const prepared = this.prepare(msg);
    if (mq) {
      this.checkQueueTopic(prepared, mq);
      await this.engine.sendOneway(prepared, mq);
      return;
    }
    await this.sendDefaultOneway(prepared);
  }

  /** The writable queues of a topic (what a selector chooses from). */
  async fetchPublishMessageQueues(topic: string): Promise<MessageQueue[]> {
    this.makeSureStateOK();
    const info = await this.tryToFindTopicPublishInfo(topic);
    return info ? [...info.messageQueueList] : [];
  }

  protected makeSureStateOK(): void {
    if (this.state !== 'RUNNING') {
      throw new RmqError(ErrorCode.CLIENT_STATE, `The producer service state not OK: ${this.state}`);
    }
  }

  // ---- preparing ----

  protected prepare(msg: Message | readonly Message[]): PreparedMessage {
    if (Array.isArray(msg)) return this.prepareBatch(msg as readonly Message[]);
    return this.prepareOne(msg as Message);
  }

  private checkMessage(topic: string, body: Buffer | undefined): void {
    if (!this.checkedTopics.has(topic)) {
      const bad = validateTopic(topic);
      if (bad) throw new RmqError(ErrorCode.MESSAGE_ILLEGAL, `${bad} topic=${topic}`);
      if (isNotAllowedSendTopic(topic)) {
        throw new RmqError(ErrorCode.MESSAGE_ILLEGAL, `Sending message to topic[${topic}] is forbidden.`);
      }
      // A producer writes to few topics: remember the good ones instead of matching every send.
      if (this.checkedTopics.size >= 1024) this.checkedTopics.clear();
      this.checkedTopics.add(topic);
    }
    if (!body || body.length === 0)
      throw new RmqError(ErrorCode.MESSAGE_ILLEGAL, 'the message body length is zero');
    if (body.length > this.config.maxMessageSize) {
      throw new RmqError(
        ErrorCode.MESSAGE_ILLEGAL,
        `the message body size over max value, MAX: ${this.config.maxMessageSize}, topic=${topic}`,
      );
    }
  }

  private ensureUniqKey(msg: Message): string {
    let id = msg.properties.get(MessageProperty.UNIQ_CLIENT_MESSAGE_ID_KEYIDX);
    if (!id) {
      id = uniqIdGenerator.next();
      msg.properties.set(MessageProperty.UNIQ_CLIENT_MESSAGE_ID_KEYIDX, id);
    }
    return id;
  }

  private prepareOne(msg: Message): PreparedMessage {
    this.checkMessage(msg.topic, msg.body);
    const msgId = this.ensureUniqKey(msg);
    let body = msg.body;
    let sysFlag = 0;
    if (body.length >= this.config.compressMsgBodyOverHowmuch) {
      body = deflateSync(body, { level: this.config.compressLevel });
      sysFlag |= MessageSysFlag.COMPRESSED_FLAG;
    }
    if (msg.properties.get(MessageProperty.TRANSACTION_PREPARED) === 'true') {
      sysFlag |= MessageSysFlag.TRANSACTION_PREPARED_TYPE;
    }
    let props: ReadonlyMap<string, string> = msg.properties;
    let reconsumeTimes = 0;
    let maxReconsumeTimes: number | undefined;
    if (msg.topic.startsWith(RETRY_GROUP_TOPIC_PREFIX)) {
      // A message re-sent to %RETRY% carries its counters in the header, not as properties.
      const copy = new Map(props);
      const rt = copy.get(MessageProperty.RECONSUME_TIME);
      const mrt = copy.get(MessageProperty.MAX_RECONSUME_TIMES);
      if (rt !== undefined) reconsumeTimes = Number(rt) || 0;
      if (mrt !== undefined) maxReconsumeTimes = Number(mrt) || 0;
      copy.delete(MessageProperty.RECONSUME_TIME);
      copy.delete(MessageProperty.MAX_RECONSUME_TIMES);
      props = copy;
    }
    return {
      topic: msg.topic,
      code: RequestCode.SEND_MESSAGE_V2,
      body,
      sysFlag,
      flag: msg.flag,
      properties: encodeProperties(props),
      msgId,
      batch: false,
      reconsumeTimes,
      maxReconsumeTimes,
    };
  }

  private prepareBatch(msgs: readonly Message[]): PreparedMessage {
    const topic = checkBatch(msgs);
    const ids: string[] = [];
    for (const m of msgs) {
      this.checkMessage(m.topic, m.body);
      ids.push(this.ensureUniqKey(m));
    }
    const body = encodeMessageBatch(msgs);
    if (body.length > this.config.maxMessageSize) {
      throw new RmqError(
        ErrorCode.MESSAGE_ILLEGAL,
        `the batch body size ${body.length} is over max value, MAX: ${this.config.maxMessageSize}, topic=${topic}`,
      );
    }
    const batchProps = new Map([
      [MessageProperty.WAIT_STORE_MSG_OK, msgs[0]!.waitStoreMsgOK ? 'true' : 'false'],
    ]);
    return {
      topic,
      code: RequestCode.SEND_BATCH_MESSAGE,
      body,
      sysFlag: 0,
      flag: 0,
      properties: encodeProperties(batchProps),
      msgId: ids.join(','),
      batch: true,
      reconsumeTimes: 0,
      maxReconsumeTimes: undefined,
    };
  }

  // ---- routes ----

  protected async tryToFindTopicPublishInfo(topic: string): Promise<TopicPublishInfo | undefined> {
    const instance = this.instance!;
    let info = this.publishInfo.get(topic);
    if (info?.ok()) return info;
    this.topics.add(topic);
    await instance.updateTopicRouteInfoFromNameServer(topic);
    info = this.publishInfo.get(topic);
    if (info && (info.haveTopicRouterInfo || info.ok())) return info;
    await instance.updateTopicRouteInfoFromNameServer(topic, {
      createTopicKey: this.config.createTopicKey,
      defaultTopicQueueNums: this.config.defaultTopicQueueNums,
    });
    return this.publishInfo.get(topic);
  }

  // ---- sending ----

  /** A oneway send: one attempt on the queue the fault strategy picks; resolves once written. */
  private async sendDefaultOneway(p: PreparedMessage): Promise<void> {
    const begin = Date.now();
    const cached = this.publishInfo.get(p.topic);
    const info = cached?.ok() ? cached : await this.tryToFindTopicPublishInfo(p.topic);
    if (!info?.ok()) throw this.engine.noRoute(p.topic);
    const mq = this.fault.selectOneMessageQueue(info, undefined);
    const start = Date.now();
    try {
      await this.engine.sendOneway(p, mq);
      this.fault.updateFaultItem(mq.brokerName, Date.now() - start, false);
    } catch (err) {
      this.fault.updateFaultItem(mq.brokerName, Date.now() - start, true);
      this.log.warn(
        { topic: p.topic, broker: mq.brokerName, attempt: 1, err: errorMessage(err) },
        'send failed',
      );
      if (!this.engine.isRetriable(err)) throw err;
      const responseCode = err instanceof RmqError ? err.responseCode : undefined;
      throw new RmqError(
        ErrorCode.SEND_FAILED,
        `Send [1] times, still failed, cost [${Date.now() - begin}]ms, Topic: ${p.topic}, ` +
          `BrokersSent: [${mq.brokerName}]: ${errorMessage(err)}`,
        { cause: err, responseCode, retriable: true },
      );
    }
  }

  /** One SYNC attempt on a given queue (no retry on another queue). */
  private sendOnce(p: PreparedMessage, mq: MessageQueue, timeoutMs: number): Promise<SendResult> {
    return new Promise<SendResult>((resolve, reject) => {
      this.engine.kernel(p, mq, 'SYNC', timeoutMs, (err, r) => (err ? reject(err) : resolve(r!)));
    });
  }

  private checkQueueTopic(p: PreparedMessage, mq: MessageQueue): void {
    if (mq.topic !== p.topic) {
      throw new RmqError(
        ErrorCode.ILLEGAL_ARGUMENT,
        `message's topic ${p.topic} is not the queue's topic ${mq.topic}`,
      );
    }
  }

  private async sendToQueue(p: PreparedMessage, mq: MessageQueue, timeoutMs: number): Promise<SendResult> {
    this.checkQueueTopic(p, mq);
    return this.sendOnce(p, mq, timeoutMs);
  }

  private async sendSelect<A>(
    p: PreparedMessage,
    msg: Message,
    selector: MessageQueueSelector<A>,
    arg: A,
    timeoutMs: number,
  ): Promise<SendResult> {
    const begin = Date.now();
    const info = await this.tryToFindTopicPublishInfo(p.topic);
    if (!info?.ok()) throw this.engine.noRoute(p.topic);
    const mqs = info.messageQueueList;
    const mq = selector(mqs, msg, arg);
    if (!mq || !mqs.some((q) => sameQueue(q, mq))) {
      throw new RmqError(
        ErrorCode.ILLEGAL_ARGUMENT,
        `select message queue returned a queue not in the route: ${JSON.stringify(mq)}`,
      );
    }
    const cost = Date.now() - begin;
    if (cost > timeoutMs)
      throw new RmqError(ErrorCode.REMOTING_TIMEOUT, `send to topic ${p.topic} timed out`);
    return this.sendOnce(p, mq, timeoutMs - cost);
  }
}
