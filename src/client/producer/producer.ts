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
 * compressed with the COMPRESSED sysflag. The send path keeps to one promise chain per send.
 */
import { deflateSync } from 'node:zlib';
import { RmqError, ErrorCode, errorMessage } from '../../common/errors.js';
import { getLogger, type Logger } from '../../common/logger.js';
import { MessageProperty, RETRY_GROUP_TOPIC_PREFIX } from '../../common/message/message-const.js';
import { encodeProperties } from '../../common/message/message-properties.js';
import { uniqIdGenerator } from '../../common/message/message-id.js';
import { MessageSysFlag } from '../../common/message/message-sysflag.js';
import { isNotAllowedSendTopic, validateTopic } from '../../common/topic-validator.js';
import type { RemotingCommand } from '../../remoting/remoting-command.js';
import { RequestCode } from '../../protocol/request-code.js';
import { SendMessageRequestHeaderV2, SendMessageResponseHeader } from '../../protocol/broker-headers.js';
import { getOrCreateClientInstance, type MQClientInstance, type ProducerInner } from '../client-instance.js';
import { isRemotingError, responseError } from '../client-errors.js';
import type { Message } from '../message/message.js';
import { sameQueue, type MessageQueue } from '../message/message-queue.js';
import { MQFaultStrategy } from './mq-fault-strategy.js';
import { checkBatch, encodeMessageBatch } from './message-batch.js';
import type { MessageQueueSelector } from './message-queue-selector.js';
import { resolveProducerOptions, type ProducerConfig, type ProducerOptions } from './producer-options.js';
import { SendResult, sendStatusOf, SendStatus, type SendCallback } from './send-result.js';
import type { TopicPublishInfo } from './topic-publish-info.js';

type Mode = 'SYNC' | 'ASYNC' | 'ONEWAY';

/** A message (or batch) encoded once, sent as many times as retries need. */
export interface PreparedMessage {
  topic: string;
  code: number;
  body: Buffer;
  sysFlag: number;
  flag: number;
  properties: string;
  /** UNIQ_KEY, comma-joined for a batch. */
  msgId: string;
  batch: boolean;
  reconsumeTimes: number;
  maxReconsumeTimes: number | undefined;
}

export class Producer {
  readonly config: ProducerConfig;
  protected readonly log: Logger;
  protected instance: MQClientInstance | undefined;
  private state: 'CREATED' | 'RUNNING' | 'SHUTDOWN' = 'CREATED';
  private readonly topics = new Set<string>();
  private readonly publishInfo = new Map<string, TopicPublishInfo>();
  private readonly fault: MQFaultStrategy;

  constructor(options: ProducerOptions) {
    this.config = resolveProducerOptions(options);
    this.log = getLogger('client.producer').child({ group: this.config.producerGroup });
    this.fault = new MQFaultStrategy(this.config.sendLatencyFaultEnable);
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
    return (await this.sendDefault(prepared, 'SYNC', target ?? this.config.sendMsgTimeout))!;
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
    this.sendDefault(prepared, 'ASYNC', timeoutMs).then(
      (r) => this.invokeCallback(() => callback.onSuccess(r!)),
      (err: unknown) => this.invokeCallback(() => callback.onException(err as Error)),
    );
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
      await this.sendKernel(prepared, mq, 'ONEWAY', this.config.sendMsgTimeout);
      return;
    }
    await this.sendDefault(prepared, 'ONEWAY', this.config.sendMsgTimeout);
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
    const bad = validateTopic(topic);
    if (bad) throw new RmqError(ErrorCode.MESSAGE_ILLEGAL, `${bad} topic=${topic}`);
    if (isNotAllowedSendTopic(topic)) {
      throw new RmqError(ErrorCode.MESSAGE_ILLEGAL, `Sending message to topic[${topic}] is forbidden.`);
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

  private noRoute(topic: string): RmqError {
    return new RmqError(
      ErrorCode.NO_ROUTE,
      `No route info of this topic: ${topic} (NameServers ${this.config.client.namesrvAddrs.join(';')})`,
    );
  }

  // ---- sending ----

  private async sendDefault(
    p: PreparedMessage,
    mode: Mode,
    timeoutMs: number,
  ): Promise<SendResult | undefined> {
    const begin = Date.now();
    const cached = this.publishInfo.get(p.topic);
    const info = cached?.ok() ? cached : await this.tryToFindTopicPublishInfo(p.topic);
    if (!info?.ok()) throw this.noRoute(p.topic);
    const c = this.config;
    const timesTotal =
      mode === 'SYNC'
        ? 1 + c.retryTimesWhenSendFailed
        : mode === 'ASYNC'
          ? 1 + c.retryTimesWhenSendAsyncFailed
          : 1;
    const brokersSent: string[] = [];
    let mq: MessageQueue | undefined;
    let result: SendResult | undefined;
    let lastError: unknown;
    let times = 0;
    for (; times < timesTotal; times++) {
      mq = this.fault.selectOneMessageQueue(info, mq?.brokerName);
      brokersSent.push(mq.brokerName);
      const start = Date.now();
      const cost = start - begin;
      if (cost > timeoutMs) {
        throw new RmqError(
          ErrorCode.REMOTING_TIMEOUT,
          `send to topic ${p.topic} timed out after ${cost} ms`,
          {
            retriable: true,
            cause: lastError,
          },
        );
      }
      try {
        // The first attempt uses the whole budget: a fixed timeout keeps the response table lean.
        result = await this.sendKernel(p, mq, mode, times === 0 ? timeoutMs : timeoutMs - cost);
        this.fault.updateFaultItem(mq.brokerName, Date.now() - start, false);
        if (
          mode === 'SYNC' &&
          result!.sendStatus !== SendStatus.SEND_OK &&
          c.retryAnotherBrokerWhenNotStoreOK
        ) {
          continue;
        }
        return result;
      } catch (err) {
        this.fault.updateFaultItem(mq.brokerName, Date.now() - start, true);
        lastError = err;
        this.log.warn(
          { topic: p.topic, broker: mq.brokerName, attempt: times + 1, err: errorMessage(err) },
          'send failed',
        );
        if (this.isRetriable(err)) continue;
        if (result) return result;
        throw err;
      }
    }
    if (result) return result;
    const responseCode = lastError instanceof RmqError ? lastError.responseCode : undefined;
    throw new RmqError(
      ErrorCode.SEND_FAILED,
      `Send [${times}] times, still failed, cost [${Date.now() - begin}]ms, Topic: ${p.topic}, ` +
        `BrokersSent: [${brokersSent.join(', ')}]: ${errorMessage(lastError)}`,
      { cause: lastError, responseCode, retriable: true },
    );
  }

  private isRetriable(err: unknown): boolean {
    if (isRemotingError(err)) return true;
    if (!(err instanceof RmqError)) return false;
    if (err.code === ErrorCode.BROKER_NOT_FOUND) return true;
    return err.responseCode !== undefined && this.config.retryResponseCodes.has(err.responseCode);
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
    return (await this.sendKernel(p, mq, 'SYNC', timeoutMs))!;
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
    if (!info?.ok()) throw this.noRoute(p.topic);
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
    return (await this.sendKernel(p, mq, 'SYNC', timeoutMs - cost))!;
  }

  /** One attempt: the request to the queue's master. */
  protected async sendKernel(
    p: PreparedMessage,
    mq: MessageQueue,
    mode: Mode,
    timeoutMs: number,
  ): Promise<SendResult | undefined> {
    const instance = this.instance!;
    let addr = instance.findBrokerAddressInPublish(mq.brokerName);
    if (!addr) {
      await this.tryToFindTopicPublishInfo(mq.topic);
      addr = instance.findBrokerAddressInPublish(mq.brokerName);
      if (!addr) {
        throw new RmqError(ErrorCode.BROKER_NOT_FOUND, `The broker[${mq.brokerName}] not exist`, {
          retriable: true,
        });
      }
    }
    const c = this.config;
    const extFields = SendMessageRequestHeaderV2.encode({
      producerGroup: c.producerGroup,
      topic: p.topic,
      defaultTopic: c.createTopicKey,
      defaultTopicQueueNums: c.defaultTopicQueueNums,
      queueId: mq.queueId,
      sysFlag: p.sysFlag,
      bornTimestamp: Date.now(),
      flag: p.flag,
      properties: p.properties,
      reconsumeTimes: p.reconsumeTimes,
      unitMode: false,
      maxReconsumeTimes: p.maxReconsumeTimes,
      batch: p.batch,
      bname: mq.brokerName,
    });
    const request = instance.api.request(p.code, { extFields, body: p.body }, mode === 'ONEWAY');
    if (mode === 'ONEWAY') {
      await instance.remoting.invokeOneway(addr, request);
      return undefined;
    }
    const response = await instance.remoting.invoke(addr, request, timeoutMs);
    return this.processSendResponse(p, mq, addr, response);
  }

  private processSendResponse(
    p: PreparedMessage,
    mq: MessageQueue,
    addr: string,
    response: RemotingCommand,
  ): SendResult {
    const status = sendStatusOf(response.code);
    if (status === undefined) {
      throw responseError(response, { what: 'send', topic: p.topic, brokerName: mq.brokerName, addr });
    }
    const h = SendMessageResponseHeader.decode(response.extFields);
    if (!h.ok) throw new RmqError(ErrorCode.HEADER_INVALID, `send to ${mq.brokerName} (${addr}): ${h.error}`);
    return new SendResult(
      status,
      p.msgId,
      h.value.msgId,
      { topic: p.topic, brokerName: mq.brokerName, queueId: h.value.queueId },
      h.value.queueOffset,
      h.value.transactionId,
      h.value.MSG_REGION || 'DefaultRegion',
      h.value.TRACE_ON !== 'false',
    );
  }
}
