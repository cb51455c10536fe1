/**
 * SEND_MESSAGE (10), SEND_MESSAGE_V2 (310) and SEND_BATCH_MESSAGE (320): the checks upstream's
 * broker makes before storing (order of checks and remarks as upstream), topic auto-creation,
 * retry-topic handling with redirection to the DLQ, then the store put. The answer waits for the
 * store's durability mode (flush / replication) and carries msgId, queueId, queueOffset.
 * Hot path: V2 headers decode through hot-headers.ts, the producer's address is encoded once per
 * connection, and the answer is written from the store's callback (one promise per put).
 */
import { randomInt } from 'node:crypto';
import { encodeSocketAddr } from '../../common/socket-address.js';
import type { Logger } from '../../common/logger.js';
import { MessageProperty, RETRY_GROUP_TOPIC_PREFIX, dlqTopic } from '../../common/message/message-const.js';
import { appendProperty, getProperty, removeProperty } from '../../common/message/message-properties.js';
import { isNotAllowedSendTopic, validateTopic } from '../../common/topic-validator.js';
import { createResponse, type RemotingCommand } from '../../remoting/remoting-command.js';
import type { RequestContext, RequestHandler } from '../../remoting/dispatcher.js';
import type { Channel } from '../../remoting/channel.js';
import { RequestCode } from '../../protocol/request-code.js';
import { ResponseCode } from '../../protocol/response-code.js';
import { SendMessageRequestHeader, type SendMessageRequest } from '../../protocol/broker-headers.js';
import { decodeSendRequestV2, encodeSendResponse } from '../../protocol/hot-headers.js';
import { decodeHeader, failure, isErrorResponse } from '../../protocol/request-helpers.js';
import { PermName, TopicSysFlag, isWriteable, type TopicConfig } from '../../protocol/topic-config.js';
import { PutMessageStatus, type MessageToStore, type PutMessageResult } from '../../store/store-types.js';
import { toHalfMessage } from '../transaction/transactional-message-service.js';
import type { BrokerController } from '../broker-controller.js';

/** MQVersion V3_4_9: from this client version the header's maxReconsumeTimes is honoured. */
const V3_4_9 = 121;
const FAQ_APPLY_TOPIC = '\nSee http://rocketmq.apache.org/docs/faq/ for further details.';

export class SendMessageProcessor {
  private inflight = 0;
  private readonly log: Logger;

  constructor(private readonly broker: BrokerController) {
    this.log = broker.log.child({ part: 'send' });
  }

  /** The encoded address of each producer connection (the store takes it pre-encoded). */
  private readonly bornHosts = new WeakMap<Channel, Buffer>();

  readonly handle: RequestHandler = (request, ctx) => {
    let header: SendMessageRequest;
    if (request.code === RequestCode.SEND_MESSAGE) {
      const h = decodeHeader(request, SendMessageRequestHeader);
      if (isErrorResponse(h)) return h;
      header = h;
    } else {
      const r = decodeSendRequestV2(request.extFields);
      if (!r.ok) return failure(request, ResponseCode.SYSTEM_ERROR, r.error);
      header = r.value;
    }
    const batch = request.code === RequestCode.SEND_BATCH_MESSAGE || header.batch === true;
    return this.send(request, ctx, header, batch);
  };

  private bornHost(channel: Channel): Buffer {
    let host = this.bornHosts.get(channel);
    if (!host) {
      host = encodeSocketAddr({ host: channel.remoteHost, port: channel.remotePort });
      this.bornHosts.set(channel, host);
    }
    return host;
  }

  /** Sends waiting for the store right now (busy protection, inspection). */
  get inflightSends(): number {
    return this.inflight;
  }

  private busy(request: RemotingCommand): RemotingCommand | undefined {
    const cap = this.broker.config.sendThreadPoolQueueCapacity;
    if (this.inflight >= cap || this.broker.store.isOSPageCacheBusy()) {
      return failure(
        request,
        ResponseCode.SYSTEM_BUSY,
        `[PCBUSY_CLEAN_QUEUE]broker busy, start flow control for a while, period in queue: 0ms, size of queue: ${this.inflight}`,
      );
    }
    return undefined;
  }

  /** Upstream's msgCheck: permission, topic name, system topics, existence/auto-creation, queue id. */
  private check(
    request: RemotingCommand,
    ctx: RequestContext,
    h: SendMessageRequest,
  ): TopicConfig | RemotingCommand {
    const b = this.broker;
    if (!isWriteable(b.config.brokerPermission) && b.topics.isOrderTopic(h.topic)) {
      return failure(
        request,
        ResponseCode.NO_PERMISSION,
        `the broker[${b.config.brokerIP1}] sending message is forbidden`,
      );
    }
    const invalid = validateTopic(h.topic);
    if (invalid) return failure(request, ResponseCode.SYSTEM_ERROR, invalid);
    if (isNotAllowedSendTopic(h.topic)) {
      return failure(
        request,
        ResponseCode.NO_PERMISSION,
        `Sending message to topic[${h.topic}] is forbidden.`,
      );
    }
    let tc = b.topics.select(h.topic);
    if (!tc) {
      const retry = h.topic.startsWith(RETRY_GROUP_TOPIC_PREFIX);
      const sysFlag = h.unitMode ? (retry ? TopicSysFlag.UNIT_SUB : TopicSysFlag.UNIT) : 0;
      tc = b.topics.createInSendMessage(
        h.topic,
        h.defaultTopic,
        h.defaultTopicQueueNums,
        sysFlag,
        ctx.channel.remoteAddress,
      );
      if (!tc && retry) tc = b.topics.createIfAbsent(h.topic, 1, PermName.READ | PermName.WRITE, sysFlag);
      if (!tc) {
        return failure(
          request,
          ResponseCode.TOPIC_NOT_EXIST,
          `topic[${h.topic}] not exist, apply first please!${FAQ_APPLY_TOPIC}`,
        );
      }
    }
    const limit = Math.max(tc.writeQueueNums, tc.readQueueNums);
    if (h.queueId >= limit) {
      return failure(
        request,
        ResponseCode.SYSTEM_ERROR,
        `request queueId[${h.queueId}] is illegal, topic:[${h.topic}] topicConfig.writeQueueNums:[${tc.writeQueueNums}] topicConfig.readQueueNums:[${tc.readQueueNums}] Producer:[${ctx.channel.remoteAddress}]`,
      );
    }
    return tc;
  }

  /**
   * A message for `%RETRY%<group>` that was retried too often goes to `%DLQ%<group>` queue 0.
   * Returns the (possibly new) topic and queue, or an error response.
   */
  private retryOrDlq(
    request: RemotingCommand,
    h: SendMessageRequest,
    queueId: number,
  ): { topic: string; queueId: number } | RemotingCommand {
    if (!h.topic.startsWith(RETRY_GROUP_TOPIC_PREFIX)) return { topic: h.topic, queueId };
    const group = h.topic.slice(RETRY_GROUP_TOPIC_PREFIX.length);
    const groupConfig = this.broker.groups.findOrCreate(group);
    if (!groupConfig) {
      return failure(
        request,
        ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST,
        `subscription group not exist, ${group}`,
      );
    }
    let max = groupConfig.retryMaxTimes;
    if (request.version >= V3_4_9 && h.maxReconsumeTimes !== undefined) max = h.maxReconsumeTimes;
    const reconsumeTimes = h.reconsumeTimes ?? 0;
    if (reconsumeTimes < max) return { topic: h.topic, queueId };
    const dlq = dlqTopic(group);
    this.broker.topics.createIfAbsent(dlq, 1, PermName.READ | PermName.WRITE);
    this.log.info({ group, reconsumeTimes, max }, 'message moved to the dead-letter queue');
    return { topic: dlq, queueId: 0 };
  }

  private send(
    request: RemotingCommand,
    ctx: RequestContext,
    h: SendMessageRequest,
    batch: boolean,
  ): RemotingCommand | null {
    const busy = this.busy(request);
    if (busy) return busy;
    const checked = this.check(request, ctx, h);
    if (isResponse(checked)) return checked;
    const queueId = h.queueId < 0 ? randomInt(0, Math.max(1, checked.writeQueueNums)) : h.queueId;
    const body = request.body ?? Buffer.alloc(0);
    const b = this.broker;

    if (batch) {
      if (h.topic.startsWith(RETRY_GROUP_TOPIC_PREFIX)) {
        return failure(
          request,
          ResponseCode.MESSAGE_ILLEGAL,
          `batch request does not support retry group ${h.topic}`,
        );
      }
      const put = b.store.putMessages({
        topic: h.topic,
        queueId,
        body,
        sysFlag: h.sysFlag,
        bornTimestamp: h.bornTimestamp,
        bornHost: this.bornHost(ctx.channel),
        properties: appendProperty(h.properties ?? '', MessageProperty.CLUSTER, b.config.brokerClusterName),
        reconsumeTimes: h.reconsumeTimes ?? 0,
      });
      return this.replyWhenStored(put, request, ctx, queueId, h.topic);
    }

    const target = this.retryOrDlq(request, h, queueId);
    if (isResponse(target)) return target;
    let props = h.properties ?? '';
    // A dead letter is stored at once, not after the retry's delay (as 4.9.8 handleRetryAndDLQ).
    if (target.topic !== h.topic) props = removeProperty(props, MessageProperty.DELAY_TIME_LEVEL);
    const prepared = getProperty(props, MessageProperty.TRANSACTION_PREPARED) === 'true';
    if (prepared && b.config.rejectTransactionMessage) {
      return failure(
        request,
        ResponseCode.NO_PERMISSION,
        `the broker[${b.config.brokerIP1}] sending transaction message is forbidden`,
      );
    }
    // WAIT=true is the default when absent: not storing it saves 9 bytes a message (as 4.9.8 does).
    if (getProperty(props, MessageProperty.WAIT_STORE_MSG_OK) === 'true') {
      props = removeProperty(props, MessageProperty.WAIT_STORE_MSG_OK);
    }
    props = appendProperty(props, MessageProperty.CLUSTER, b.config.brokerClusterName);
    const msg: MessageToStore = {
      topic: target.topic,
      queueId: target.queueId,
      body,
      flag: h.flag,
      properties: props,
      sysFlag: h.sysFlag,
      bornTimestamp: h.bornTimestamp,
      bornHost: this.bornHost(ctx.channel),
      reconsumeTimes: h.reconsumeTimes ?? 0,
    };
    const put = b.putMessage(prepared ? toHalfMessage(msg) : msg);
    return this.replyWhenStored(put, request, ctx, target.queueId, target.topic);
  }

  /** Counts the put as in flight and answers once the store has; no reply now. */
  private replyWhenStored(
    put: Promise<PutMessageResult>,
    request: RemotingCommand,
    ctx: RequestContext,
    queueId: number,
    topic: string,
  ): null {
    this.inflight++;
    put.then(
      (r) => {
        this.inflight--;
        // Stored (PUT_OK or a flush/slave timeout): counted for VIEW_BROKER_STATS_DATA, as upstream.
        if (r.appendResult) this.broker.stats.put(topic, r.appendResult.msgNum, r.appendResult.wroteBytes);
        let response: RemotingCommand;
        try {
          response = this.answer(request, r, queueId);
        } catch (err) {
          ctx.dispatcher.replyError(request, ctx.channel, err);
          return;
        }
        ctx.dispatcher.reply(request, ctx.channel, response);
      },
      (err: unknown) => {
        this.inflight--;
        ctx.dispatcher.replyError(request, ctx.channel, err);
      },
    );
    return null;
  }

  /** Maps a store result to the SEND answer (upstream's handlePutMessageResult). */
  private answer(request: RemotingCommand, r: PutMessageResult, queueId: number): RemotingCommand {
    let code: number;
    let remark: string | undefined;
    switch (r.status) {
      case PutMessageStatus.PUT_OK:
        code = ResponseCode.SUCCESS;
        break;
      case PutMessageStatus.FLUSH_DISK_TIMEOUT:
        code = ResponseCode.FLUSH_DISK_TIMEOUT;
        break;
      case PutMessageStatus.FLUSH_SLAVE_TIMEOUT:
        code = ResponseCode.FLUSH_SLAVE_TIMEOUT;
        break;
      case PutMessageStatus.SLAVE_NOT_AVAILABLE:
        code = ResponseCode.SLAVE_NOT_AVAILABLE;
        break;
      case PutMessageStatus.CREATE_MAPEDFILE_FAILED:
        code = ResponseCode.SYSTEM_ERROR;
        remark = 'create mapped file failed, server is busy or broken.';
        break;
      case PutMessageStatus.MESSAGE_ILLEGAL:
      case PutMessageStatus.PROPERTIES_SIZE_EXCEEDED:
        code = ResponseCode.MESSAGE_ILLEGAL;
        remark = `the message is illegal, maybe msg body or properties length not matched. msg body length limit ${this.broker.storeConfig.maxMessageSize} bytes, msg properties length limit 32767 bytes.`;
        break;
      case PutMessageStatus.SERVICE_NOT_AVAILABLE:
        code = ResponseCode.SERVICE_NOT_AVAILABLE;
        remark =
          "service not available now. It may be caused by one of the following reasons: the broker's disk is full, messages are put to the slave, message store has been shut down, etc.";
        break;
      case PutMessageStatus.OS_PAGECACHE_BUSY:
        code = ResponseCode.SYSTEM_ERROR;
        remark = '[PC_SYNCHRONIZED]broker busy, start flow control for a while';
        break;
      default:
        code = ResponseCode.SYSTEM_ERROR;
        remark = 'UNKNOWN_ERROR';
    }
    if (r.remark) remark = remark ? `${remark} (${r.remark})` : r.remark;
    const a = r.appendResult;
    if (
      !a ||
      (code !== ResponseCode.SUCCESS &&
        code !== ResponseCode.FLUSH_DISK_TIMEOUT &&
        code !== ResponseCode.FLUSH_SLAVE_TIMEOUT &&
        code !== ResponseCode.SLAVE_NOT_AVAILABLE)
    ) {
      return createResponse(request, code, { remark: remark ?? r.status });
    }
    return createResponse(request, code, {
      remark,
      extFields: encodeSendResponse({
        msgId: a.msgId,
        queueId,
        queueOffset: a.logicsOffset,
        MSG_REGION: this.broker.config.regionId,
        TRACE_ON: String(this.broker.config.traceOn),
      }),
    });
  }
}

function isResponse(
  v: TopicConfig | { topic: string; queueId: number } | RemotingCommand,
): v is RemotingCommand {
  return 'opaque' in v;
}
