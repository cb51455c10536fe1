/**
 * Typed remote calls of the client (upstream's MQClientAPIImpl): NameServer lookups with failover,
 * and the broker calls producers and consumers make. Each call builds its request, checks the
 * response code and decodes the answer; failures are RmqErrors from `responseError` or from the
 * transport. Admin-only calls live in admin/mq-admin-api.ts.
 */
import type { Logger } from '../common/logger.js';
import { RmqError, ErrorCode } from '../common/errors.js';
import type { MessageExt as StoredMessage } from '../common/message/message-record.js';
import { decodeRecords } from '../common/message/message-record.js';
import type { RemotingClient } from '../remoting/remoting-client.js';
import {
  createRequest,
  type ExtFields,
  type RemotingCommand,
  type SerializeTypeValue,
} from '../remoting/remoting-command.js';
import { RequestCode } from '../protocol/request-code.js';
import { ResponseCode } from '../protocol/response-code.js';
import {
  ConsumerGroupRequestHeader,
  ConsumerSendMsgBackRequestHeader,
  EndTransactionRequestHeader,
  GetEarliestMsgStoretimeResponseHeader,
  OffsetResponseHeader,
  QueryConsumerOffsetRequestHeader,
  SearchOffsetRequestHeader,
  TopicQueueRequestHeader,
  UnregisterClientRequestHeader,
  UpdateConsumerOffsetRequestHeader,
  ViewMessageRequestHeader,
  type PullMessageRequest,
} from '../protocol/broker-headers.js';
import type { HeaderOf } from '../protocol/header.js';
import { decodePullResponse, encodePullRequest } from '../protocol/hot-headers.js';
import { GetRouteInfoRequestHeader } from '../protocol/namesrv-headers.js';
import { decodeTopicRouteData, type TopicRouteData } from '../protocol/route-data.js';
import { encodeHeartbeatData, type HeartbeatData } from '../protocol/heartbeat.js';
import { decodeConsumerIdList, decodeLockBatchResponse, jsonBody } from '../protocol/admin-bodies.js';
import { isRemotingError, responseError, type ErrorContext } from './client-errors.js';
import type { NamesrvSelector } from './namesrv-selector.js';
import type { MessageQueue } from './message/message-queue.js';

export const PullStatus = {
  FOUND: 'FOUND',
  NO_NEW_MSG: 'NO_NEW_MSG',
  NO_MATCHED_MSG: 'NO_MATCHED_MSG',
  OFFSET_ILLEGAL: 'OFFSET_ILLEGAL',
} as const;
export type PullStatus = (typeof PullStatus)[keyof typeof PullStatus];

/** A PULL_MESSAGE answer before client-side filtering. */
export interface RawPullResult {
  status: PullStatus;
  nextBeginOffset: number;
  minOffset: number;
  maxOffset: number;
  suggestWhichBrokerId: number;
  /** The records found (FOUND only), decoded by the consumer (pull-decoder.ts). */
  body: Buffer | undefined;
}

/** Java's timeout of lock and unlock calls. */
const LOCK_TIMEOUT_MS = 1000;

interface CallInit {
  extFields?: ExtFields | undefined;
  body?: Buffer | undefined;
}

export class MQClientAPI {
  constructor(
    readonly remoting: RemotingClient,
    readonly namesrv: NamesrvSelector,
    readonly serializeType: SerializeTypeValue,
    readonly apiTimeoutMs: number,
    private readonly log: Logger,
  ) {}

  request(code: number, init: CallInit = {}, oneway = false): RemotingCommand {
    // Fields named one by one: an object spread here showed in profiles of every call.
    return createRequest(code, {
      extFields: init.extFields,
      body: init.body,
      serializeType: this.serializeType,
      oneway,
    });
  }

  /** A broker call answered SUCCESS (or one of `ok`); anything else throws responseError. */
  async call(
    addr: string,
    code: number,
    ctx: ErrorContext,
    init: CallInit = {},
    timeoutMs = this.apiTimeoutMs,
    ok: readonly number[] = [ResponseCode.SUCCESS],
  ): Promise<RemotingCommand> {
    const response = await this.remoting.invoke(addr, this.request(code, init), timeoutMs);
    if (!ok.includes(response.code)) throw responseError(response, { ...ctx, addr });
    return response;
  }

  /** A NameServer call: tries each NameServer once, starting with the chosen one. */
  async callNamesrv(
    code: number,
    ctx: ErrorContext,
    init: CallInit = {},
    timeoutMs = this.apiTimeoutMs,
  ): Promise<RemotingCommand> {
    const addrs = this.namesrv.order();
    if (addrs.length === 0) throw new RmqError(ErrorCode.CONFIG_INVALID, 'no NameServer address configured');
    let last: unknown;
    for (const addr of addrs) {
      try {
        const response = await this.remoting.invoke(addr, this.request(code, init), timeoutMs);
        if (response.code !== ResponseCode.SUCCESS) throw responseError(response, { ...ctx, addr }, true);
        return response;
      } catch (err) {
        if (!isRemotingError(err)) throw err;
        this.log.warn(
          { namesrv: addr, err: (err as Error).message },
          'NameServer call failed, trying the next',
        );
        this.namesrv.markFailed(addr);
        last = err;
      }
    }
    throw last;
  }

  async getTopicRouteInfo(topic: string, timeoutMs = this.apiTimeoutMs): Promise<TopicRouteData> {
    const response = await this.callNamesrv(
      RequestCode.GET_ROUTEINFO_BY_TOPIC,
      { what: 'get route', topic },
      { extFields: GetRouteInfoRequestHeader.encode({ topic }) },
      timeoutMs,
    );
    return decodeTopicRouteData(response.body);
  }

  async pullMessage(addr: string, header: PullMessageRequest, timeoutMs: number): Promise<RawPullResult> {
    const response = await this.remoting.invoke(
      addr,
      this.request(RequestCode.PULL_MESSAGE, { extFields: encodePullRequest(header) }),
      timeoutMs,
    );
    let status: PullStatus;
    switch (response.code) {
      case ResponseCode.SUCCESS:
        status = PullStatus.FOUND;
        break;
      case ResponseCode.PULL_NOT_FOUND:
        status = PullStatus.NO_NEW_MSG;
        break;
      case ResponseCode.PULL_RETRY_IMMEDIATELY:
        status = PullStatus.NO_MATCHED_MSG;
        break;
      case ResponseCode.PULL_OFFSET_MOVED:
        status = PullStatus.OFFSET_ILLEGAL;
        break;
      default:
        throw responseError(response, {
          what: 'pull',
          addr,
          topic: header.topic,
          group: header.consumerGroup,
        });
    }
    const h = decodePullResponse(response.extFields);
    if (!h.ok) throw new RmqError(ErrorCode.HEADER_INVALID, `pull from ${addr}: ${h.error}`);
    return {
      status,
      nextBeginOffset: h.value.nextBeginOffset,
      minOffset: h.value.minOffset,
      maxOffset: h.value.maxOffset,
      suggestWhichBrokerId: h.value.suggestWhichBrokerId,
      body: status === PullStatus.FOUND ? response.body : undefined,
    };
  }

  /** The group's committed offset of a queue; QUERY_NOT_FOUND throws like any broker error. */
  async queryConsumerOffset(addr: string, group: string, mq: MessageQueue): Promise<number> {
    const response = await this.call(
      addr,
      RequestCode.QUERY_CONSUMER_OFFSET,
      { what: 'query consumer offset', topic: mq.topic, group },
      {
        extFields: QueryConsumerOffsetRequestHeader.encode({
          consumerGroup: group,
          topic: mq.topic,
          queueId: mq.queueId,
        }),
      },
    );
    return this.offsetOf(response, addr);
  }

  async updateConsumerOffset(
    addr: string,
    group: string,
    mq: MessageQueue,
    offset: number,
    oneway: boolean,
  ): Promise<void> {
    const extFields = UpdateConsumerOffsetRequestHeader.encode({
      consumerGroup: group,
      topic: mq.topic,
      queueId: mq.queueId,
      commitOffset: offset,
    });
    if (oneway) {
      await this.remoting.invokeOneway(
        addr,
        this.request(RequestCode.UPDATE_CONSUMER_OFFSET, { extFields }, true),
      );
      return;
    }
    await this.call(
      addr,
      RequestCode.UPDATE_CONSUMER_OFFSET,
      { what: 'update consumer offset', topic: mq.topic, group },
      { extFields },
    );
  }

  async getMaxOffset(addr: string, mq: MessageQueue): Promise<number> {
    return this.queueOffsetCall(addr, RequestCode.GET_MAX_OFFSET, 'get max offset', mq);
  }

  async getMinOffset(addr: string, mq: MessageQueue): Promise<number> {
    return this.queueOffsetCall(addr, RequestCode.GET_MIN_OFFSET, 'get min offset', mq);
  }

  async searchOffset(addr: string, mq: MessageQueue, timestamp: number): Promise<number> {
    const response = await this.call(
      addr,
      RequestCode.SEARCH_OFFSET_BY_TIMESTAMP,
      { what: 'search offset by timestamp', topic: mq.topic },
      { extFields: SearchOffsetRequestHeader.encode({ topic: mq.topic, queueId: mq.queueId, timestamp }) },
    );
    return this.offsetOf(response, addr);
  }

  async getEarliestMsgStoretime(addr: string, mq: MessageQueue): Promise<number> {
    const response = await this.call(
      addr,
      RequestCode.GET_EARLIEST_MSG_STORETIME,
      { what: 'get earliest message store time', topic: mq.topic },
      { extFields: TopicQueueRequestHeader.encode({ topic: mq.topic, queueId: mq.queueId }) },
    );
    const h = GetEarliestMsgStoretimeResponseHeader.decode(response.extFields);
    if (!h.ok) throw new RmqError(ErrorCode.HEADER_INVALID, `${addr}: ${h.error}`);
    return h.value.timestamp;
  }

  private async queueOffsetCall(addr: string, code: number, what: string, mq: MessageQueue): Promise<number> {
    const response = await this.call(
      addr,
      code,
      { what, topic: mq.topic },
      { extFields: TopicQueueRequestHeader.encode({ topic: mq.topic, queueId: mq.queueId }) },
    );
    return this.offsetOf(response, addr);
  }

  private offsetOf(response: RemotingCommand, addr: string): number {
    const h = OffsetResponseHeader.decode(response.extFields);
    if (!h.ok) throw new RmqError(ErrorCode.HEADER_INVALID, `${addr}: ${h.error}`);
    return h.value.offset;
  }

  async heartbeat(addr: string, data: HeartbeatData, timeoutMs = this.apiTimeoutMs): Promise<void> {
    await this.call(
      addr,
      RequestCode.HEART_BEAT,
      { what: 'heartbeat' },
      { body: encodeHeartbeatData(data) },
      timeoutMs,
    );
  }

  async unregisterClient(
    addr: string,
    clientId: string,
    groups: { producerGroup?: string; consumerGroup?: string },
  ): Promise<void> {
    await this.call(
      addr,
      RequestCode.UNREGISTER_CLIENT,
      { what: 'unregister client', group: groups.producerGroup ?? groups.consumerGroup },
      { extFields: UnregisterClientRequestHeader.encode({ clientID: clientId, ...groups }) },
    );
  }

  async getConsumerIdListByGroup(addr: string, group: string): Promise<string[]> {
    const response = await this.call(
      addr,
      RequestCode.GET_CONSUMER_LIST_BY_GROUP,
      { what: 'get consumer list', group },
      { extFields: ConsumerGroupRequestHeader.encode({ consumerGroup: group }) },
    );
    return decodeConsumerIdList(response.body);
  }

  /**
   * CONSUMER_SEND_MSG_BACK: hands a message the listener could not consume back to the broker,
   * which re-delivers it through %RETRY%<group> (or the DLQ after maxReconsumeTimes, or at once
   * with a negative delayLevel). originMsgId is the message's msgId (its UNIQ_KEY), as Java sends.
   */
  async consumerSendMessageBack(
    addr: string,
    msg: { commitLogOffset: number; msgId: string; topic: string; brokerName: string },
    group: string,
    delayLevel: number,
    maxReconsumeTimes: number,
    timeoutMs = this.apiTimeoutMs,
  ): Promise<void> {
    await this.call(
      addr,
      RequestCode.CONSUMER_SEND_MSG_BACK,
      { what: 'send message back', topic: msg.topic, group },
      {
        extFields: ConsumerSendMsgBackRequestHeader.encode({
          offset: msg.commitLogOffset,
          group,
          delayLevel,
          originMsgId: msg.msgId,
          originTopic: msg.topic,
          unitMode: false,
          maxReconsumeTimes,
          bname: msg.brokerName,
        }),
      },
      timeoutMs,
    );
  }

  /** LOCK_BATCH_MQ: locks (or renews) queues for an orderly consumer; returns those now held. */
  async lockBatchMQ(
    addr: string,
    group: string,
    clientId: string,
    mqs: readonly MessageQueue[],
    timeoutMs = LOCK_TIMEOUT_MS,
  ): Promise<MessageQueue[]> {
    const response = await this.call(
      addr,
      RequestCode.LOCK_BATCH_MQ,
      { what: 'lock queues', group },
      { body: jsonBody({ consumerGroup: group, clientId, mqSet: mqs }) },
      timeoutMs,
    );
    return decodeLockBatchResponse(response.body);
  }

  /** UNLOCK_BATCH_MQ: gives queue locks back. */
  async unlockBatchMQ(
    addr: string,
    group: string,
    clientId: string,
    mqs: readonly MessageQueue[],
    oneway: boolean,
    timeoutMs = LOCK_TIMEOUT_MS,
  ): Promise<void> {
    const body = jsonBody({ consumerGroup: group, clientId, mqSet: mqs });
    if (oneway) {
      await this.remoting.invokeOneway(addr, this.request(RequestCode.UNLOCK_BATCH_MQ, { body }, true));
      return;
    }
    await this.call(addr, RequestCode.UNLOCK_BATCH_MQ, { what: 'unlock queues', group }, { body }, timeoutMs);
  }

  /** END_TRANSACTION, oneway as Java sends it; `remark` carries a local transaction's error. */
  async endTransactionOneway(
    addr: string,
    header: HeaderOf<typeof EndTransactionRequestHeader.fields>,
    remark: string | undefined,
  ): Promise<void> {
    const request = createRequest(RequestCode.END_TRANSACTION, {
      extFields: EndTransactionRequestHeader.encode(header),
      remark,
      serializeType: this.serializeType,
      oneway: true,
    });
    await this.remoting.invokeOneway(addr, request);
  }

  /** VIEW_MESSAGE_BY_ID: the message at a commit-log offset of the broker at `addr`. */
  async viewMessage(addr: string, phyOffset: number, timeoutMs = this.apiTimeoutMs): Promise<StoredMessage> {
    const response = await this.call(
      addr,
      RequestCode.VIEW_MESSAGE_BY_ID,
      { what: 'view message' },
      { extFields: ViewMessageRequestHeader.encode({ offset: phyOffset }) },
      timeoutMs,
    );
    const msg = response.body ? decodeRecords(response.body)[0] : undefined;
    if (!msg)
      throw new RmqError(
        ErrorCode.BROKER_RESPONSE,
        `view message at ${phyOffset} on ${addr}: no message in the answer`,
      );
    return msg;
  }
}
