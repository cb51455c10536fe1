/**
 * The producer's send attempts (upstream's sendDefaultImpl + sendKernelImpl), driven by callbacks:
 * a pipelined producer keeps thousands of sends in flight, and a promise per step of each (route
 * lookup, attempt, transport) showed up as a large share of its CPU. Promises remain only where a
 * step really waits (a route not cached yet, a connection not open yet).
 *
 * One send: take the topic's publish info (cached, else from the NameServer), then up to
 * 1 + retryTimes attempts, each on the queue the fault strategy picks (avoiding the broker that
 * just failed), within one time budget. A retriable failure (transport errors, the codes in
 * retryResponseCodes) moves on to the next attempt; SYNC sends also retry a stored-but-degraded
 * answer when retryAnotherBrokerWhenNotStoreOK is set.
 */
import { RmqError, ErrorCode, errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { RemotingCommand } from '../../remoting/remoting-command.js';
import { decodeSendResponse, encodeSendRequestV2 } from '../../protocol/hot-headers.js';
import type { MQClientInstance } from '../client-instance.js';
import { isRemotingError, responseError } from '../client-errors.js';
import type { MessageQueue } from '../message/message-queue.js';
import type { MQFaultStrategy } from './mq-fault-strategy.js';
import type { ProducerConfig } from './producer-options.js';
import { SendResult, SendStatus, sendStatusOf } from './send-result.js';
import type { TopicPublishInfo } from './topic-publish-info.js';

export type Mode = 'SYNC' | 'ASYNC' | 'ONEWAY';

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

/** Completion of a send: the result, or the error that ended it. */
export type SendDone = (err: Error | undefined, result: SendResult | undefined) => void;

/** What the engine needs of its producer. */
export interface SendHost {
  readonly config: ProducerConfig;
  readonly log: Logger;
  readonly fault: MQFaultStrategy;
  readonly instance: MQClientInstance;
  /** The cached publish info of a topic, when usable. */
  cachedPublishInfo(topic: string): TopicPublishInfo | undefined;
  /** Looks the route up (NameServer) when it is not cached. */
  findPublishInfo(topic: string): Promise<TopicPublishInfo | undefined>;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(errorMessage(err));
}

/** The state of one send across its attempts. */
class SendJob {
  readonly begin = Date.now();
  readonly timesTotal: number;
  times = 0;
  readonly brokersSent: string[] = [];
  mq: MessageQueue | undefined;
  result: SendResult | undefined;
  lastError: unknown;

  constructor(
    readonly p: PreparedMessage,
    readonly mode: 'SYNC' | 'ASYNC',
    readonly timeoutMs: number,
    readonly done: SendDone,
    retries: number,
  ) {
    this.timesTotal = 1 + retries;
  }
}

export class SendEngine {
  constructor(private readonly host: SendHost) {}

  noRoute(topic: string): RmqError {
    return new RmqError(
      ErrorCode.NO_ROUTE,
      `No route info of this topic: ${topic} (NameServers ${this.host.config.client.namesrvAddrs.join(';')})`,
    );
  }

  /** Sends with retries on other queues; `done` is called once, never before this returns. */
  send(p: PreparedMessage, mode: 'SYNC' | 'ASYNC', timeoutMs: number, done: SendDone): void {
    const c = this.host.config;
    const job = new SendJob(
      p,
      mode,
      timeoutMs,
      done,
      mode === 'SYNC' ? c.retryTimesWhenSendFailed : c.retryTimesWhenSendAsyncFailed,
    );
    const cached = this.host.cachedPublishInfo(p.topic);
    if (cached) {
      this.attempt(job, cached);
      return;
    }
    this.host.findPublishInfo(p.topic).then(
      (info) => {
        if (info?.ok()) this.attempt(job, info);
        else done(this.noRoute(p.topic), undefined);
      },
      (err: unknown) => done(asError(err), undefined),
    );
  }

  private attempt(job: SendJob, info: TopicPublishInfo): void {
    const { p } = job;
    const mq = this.host.fault.selectOneMessageQueue(info, job.mq?.brokerName);
    job.mq = mq;
    job.brokersSent.push(mq.brokerName);
    const start = Date.now();
    const cost = start - job.begin;
    if (cost > job.timeoutMs) {
      job.done(
        new RmqError(ErrorCode.REMOTING_TIMEOUT, `send to topic ${p.topic} timed out after ${cost} ms`, {
          retriable: true,
          cause: job.lastError,
        }),
        undefined,
      );
      return;
    }
    // The first attempt uses the whole budget: a fixed timeout keeps the response table lean.
    const budget = job.times === 0 ? job.timeoutMs : job.timeoutMs - cost;
    this.kernel(p, mq, job.mode, budget, (err, result) => {
      if (err) {
        this.host.fault.updateFaultItem(mq.brokerName, Date.now() - start, true);
        job.lastError = err;
        this.host.log.warn(
          { topic: p.topic, broker: mq.brokerName, attempt: job.times + 1, err: errorMessage(err) },
          'send failed',
        );
        if (!this.isRetriable(err)) {
          if (job.result) job.done(undefined, job.result);
          else job.done(err, undefined);
          return;
        }
      } else {
        this.host.fault.updateFaultItem(mq.brokerName, Date.now() - start, false);
        job.result = result;
        if (
          job.mode !== 'SYNC' ||
          result!.sendStatus === SendStatus.SEND_OK ||
          !this.host.config.retryAnotherBrokerWhenNotStoreOK
        ) {
          job.done(undefined, result);
          return;
        }
      }
      if (++job.times < job.timesTotal) this.attempt(job, info);
      else this.finish(job);
    });
  }

  private finish(job: SendJob): void {
    if (job.result) {
      job.done(undefined, job.result);
      return;
    }
    const { lastError } = job;
    const responseCode = lastError instanceof RmqError ? lastError.responseCode : undefined;
    job.done(
      new RmqError(
        ErrorCode.SEND_FAILED,
        `Send [${job.times}] times, still failed, cost [${Date.now() - job.begin}]ms, Topic: ${job.p.topic}, ` +
          `BrokersSent: [${job.brokersSent.join(', ')}]: ${errorMessage(lastError)}`,
        { cause: lastError, responseCode, retriable: true },
      ),
      undefined,
    );
  }

  isRetriable(err: unknown): boolean {
    if (isRemotingError(err)) return true;
    if (!(err instanceof RmqError)) return false;
    if (err.code === ErrorCode.BROKER_NOT_FOUND) return true;
    return err.responseCode !== undefined && this.host.config.retryResponseCodes.has(err.responseCode);
  }

  /** The request of one attempt. */
  private request(p: PreparedMessage, mq: MessageQueue, oneway: boolean): RemotingCommand {
    const c = this.host.config;
    const extFields = encodeSendRequestV2({
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
    return this.host.instance.api.request(p.code, { extFields, body: p.body }, oneway);
  }

  /** The master's address of the queue's broker, looking the route up once if it is unknown. */
  private async brokerAddress(mq: MessageQueue): Promise<string> {
    await this.host.findPublishInfo(mq.topic);
    const addr = this.host.instance.findBrokerAddressInPublish(mq.brokerName);
    if (!addr) {
      throw new RmqError(ErrorCode.BROKER_NOT_FOUND, `The broker[${mq.brokerName}] not exist`, {
        retriable: true,
      });
    }
    return addr;
  }

  /** One attempt: the request to the queue's master; `done` is called once, never before this returns. */
  kernel(
    p: PreparedMessage,
    mq: MessageQueue,
    mode: 'SYNC' | 'ASYNC',
    timeoutMs: number,
    done: SendDone,
  ): void {
    const instance = this.host.instance;
    const addr = instance.findBrokerAddressInPublish(mq.brokerName);
    if (!addr) {
      this.brokerAddress(mq).then(
        (a) => this.invoke(p, mq, a, timeoutMs, done),
        (err: unknown) => done(asError(err), undefined),
      );
      return;
    }
    this.invoke(p, mq, addr, timeoutMs, done);
  }

  private invoke(
    p: PreparedMessage,
    mq: MessageQueue,
    addr: string,
    timeoutMs: number,
    done: SendDone,
  ): void {
    let request: RemotingCommand;
    try {
      request = this.request(p, mq, false);
    } catch (err) {
      process.nextTick(done, asError(err), undefined);
      return;
    }
    this.host.instance.remoting.invokeCallback(addr, request, timeoutMs, (err, response) => {
      if (err) {
        done(err, undefined);
        return;
      }
      let result: SendResult;
      try {
        result = this.processSendResponse(p, mq, addr, response!);
      } catch (e) {
        done(asError(e), undefined);
        return;
      }
      done(undefined, result);
    });
  }

  /** A oneway attempt: resolves once the request is written (no retry, as upstream). */
  async sendOneway(p: PreparedMessage, mq: MessageQueue): Promise<void> {
    const instance = this.host.instance;
    const addr = instance.findBrokerAddressInPublish(mq.brokerName) ?? (await this.brokerAddress(mq));
    await instance.remoting.invokeOneway(addr, this.request(p, mq, true));
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
    const h = decodeSendResponse(response.extFields);
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
