/**
 * Admin requests the broker answers by asking the group's consumers (upstream's AdminBrokerProcessor
 * with Broker2Client):
 * - GET_CONSUMER_RUNNING_INFO (307) and CONSUME_MESSAGE_DIRECTLY (309): relayed to one client of
 *   the group, whose answer (code, remark, body) is the admin's answer; for 309 the broker first
 *   puts the stored record named by the offset msgId into the body and its own name into brokerName;
 * - INVOKE_BROKER_TO_RESET_OFFSET (222): computes each queue's new offset (by store time, or the
 *   queue's end for timestamp -1), tells every consumer of the group with a oneway
 *   RESET_CONSUMER_CLIENT_OFFSET (the consumers commit the new offsets themselves) and answers the
 *   offsets sent;
 * - INVOKE_BROKER_TO_GET_CONSUMER_STATUS (223): asks each client (or only the one named) for its
 *   offsets of the topic with GET_CONSUMER_STATUS_FROM_CLIENT and answers them by client id.
 * A client that does not answer in time never fails the broker: 307/309 answer CONSUME_MSG_TIMEOUT
 * (upstream's code) naming the client, 223 leaves that client out.
 */
import { ErrorCode, RmqError, errorMessage } from '../../common/errors.js';
import { decodeOffsetMsgId } from '../../common/message/message-id.js';
import type { RequestHandler } from '../../remoting/dispatcher.js';
import { createRequest, createResponse, type RemotingCommand } from '../../remoting/remoting-command.js';
import { RequestCode } from '../../protocol/request-code.js';
import { ResponseCode } from '../../protocol/response-code.js';
import {
  ConsumeMessageDirectlyResultRequestHeader,
  GetConsumerRunningInfoRequestHeader,
  GetConsumerStatusRequestHeader,
  ResetOffsetRequestHeader,
} from '../../protocol/broker-headers.js';
import { encodeResetOffsetBody, type MessageQueue } from '../../protocol/admin-bodies.js';
import {
  decodeGetConsumerStatusBody,
  encodeGetConsumerStatusBody,
  encodeResetOffsetBodyForC,
} from '../../protocol/admin-call-bodies.js';
import { decodeHeader, failure, isErrorResponse, success } from '../../protocol/request-helpers.js';
import type { BrokerController } from '../broker-controller.js';

/** MQVersion ordinals below which a client cannot serve these calls (V3_0_7 and V3_1_8 snapshots). */
const MIN_VERSION_RESET_AND_STATUS = 28;
const MIN_VERSION_CALL_CONSUMER = 62;

/** Upstream's answer when a consumer of the group predates these calls. */
function tooOldClient(request: RemotingCommand, version: number): RemotingCommand {
  return failure(
    request,
    ResponseCode.SYSTEM_ERROR,
    `the client does not support this feature. version=${version}`,
  );
}

/** Upstream's wait for one client's offsets. */
const CONSUMER_STATUS_TIMEOUT_MS = 5000;
/** Upstream's wait for a client's answer to an admin call relayed by the broker. */
const CALL_CLIENT_TIMEOUT_MS = 10_000;

export function adminClientCallHandlers(
  b: BrokerController,
): Record<'runningInfo' | 'consumeMessageDirectly' | 'resetOffset' | 'consumerStatus', RequestHandler> {
  /** Relays `request` (same header fields and body) to `clientId` of `group`; its answer becomes ours. */
  async function callConsumer(
    request: RemotingCommand,
    group: string,
    clientId: string | undefined,
    body: Buffer | undefined,
  ): Promise<RemotingCommand> {
    const info = clientId === undefined ? undefined : b.consumers.get(group)?.findChannel(clientId);
    if (!info) {
      return failure(request, ResponseCode.SYSTEM_ERROR, `The Consumer <${group}> <${clientId}> not online`);
    }
    if (info.version < MIN_VERSION_CALL_CONSUMER) {
      return failure(
        request,
        ResponseCode.SYSTEM_ERROR,
        `The Consumer <${clientId}> Version <${info.version}> too low to finish, please upgrade it to V3_1_8_SNAPSHOT`,
      );
    }
    const relayed = createRequest(request.code, { extFields: { ...request.extFields }, body });
    try {
      const answer = await b.callClient(info.channel, relayed, CALL_CLIENT_TIMEOUT_MS);
      return createResponse(request, answer.code, {
        remark: answer.remark,
        extFields: answer.extFields,
        body: answer.body,
      });
    } catch (err) {
      if (err instanceof RmqError && err.code === ErrorCode.REMOTING_TIMEOUT) {
        return failure(
          request,
          ResponseCode.CONSUME_MSG_TIMEOUT,
          `consumer <${group}> <${clientId}> Timeout: ${errorMessage(err)}`,
        );
      }
      return failure(
        request,
        ResponseCode.SYSTEM_ERROR,
        `invoke consumer <${group}> <${clientId}> Exception: ${errorMessage(err)}`,
      );
    }
  }

  const runningInfo: RequestHandler = (request) => {
    const h = decodeHeader(request, GetConsumerRunningInfoRequestHeader);
    if (isErrorResponse(h)) return h;
    return callConsumer(request, h.consumerGroup, h.clientId, request.body);
  };

  const consumeMessageDirectly: RequestHandler = async (request) => {
    const h = decodeHeader(request, ConsumeMessageDirectlyResultRequestHeader);
    if (isErrorResponse(h)) return h;
    if (!h.msgId) {
      return failure(
        request,
        ResponseCode.SYSTEM_ERROR,
        'ConsumeMessageDirectlyResultRequestHeader: missing required field msgId',
      );
    }
    let offset: number;
    try {
      offset = decodeOffsetMsgId(h.msgId).offset;
    } catch (err) {
      return failure(request, ResponseCode.SYSTEM_ERROR, errorMessage(err));
    }
    const raw = await b.store.lookMessageByOffsetRaw(offset);
    if (!raw) {
      return failure(request, ResponseCode.SYSTEM_ERROR, `can not find message by the offset, ${offset}`);
    }
    // The client names the queue of the message it consumes after this broker.
    request.extFields = { ...request.extFields, brokerName: b.config.brokerName };
    return callConsumer(request, h.consumerGroup, h.clientId, raw);
  };

  const resetOffset: RequestHandler = async (request, ctx) => {
    const h = decodeHeader(request, ResetOffsetRequestHeader);
    if (isErrorResponse(h)) return h;
    const { topic, group, timestamp, isForce } = h;
    b.log.info(
      { peer: ctx.channel.remoteAddress, topic, group, timestamp, isForce },
      'reset offset requested',
    );
    const tc = b.topics.select(topic);
    if (!tc) {
      return failure(
        request,
        ResponseCode.SYSTEM_ERROR,
        `[reset-offset] reset offset failed, no topic in this broker. topic=${topic}`,
      );
    }
    const offsets: [MessageQueue, number][] = [];
    for (let queueId = 0; queueId < tc.writeQueueNums; queueId++) {
      const committed = b.offsets.query(group, topic, queueId);
      if (committed === -1) {
        // Upstream's remark, spelling included.
        return failure(request, ResponseCode.SYSTEM_ERROR, `THe consumer group <${group}> not exist`);
      }
      let target =
        timestamp === -1
          ? b.store.getMaxOffsetInQueue(topic, queueId)
          : await b.store.getOffsetInQueueByTime(topic, queueId, timestamp);
      if (target < 0) target = 0;
      // Without isForce a reset only ever moves a consumer back, never past what it has not consumed.
      const offset = isForce || target < committed ? target : committed;
      offsets.push([{ topic, brokerName: b.config.brokerName, queueId }, offset]);
    }

    const g = b.consumers.get(group);
    if (!g || g.channels.size === 0) {
      return failure(
        request,
        ResponseCode.CONSUMER_NOT_ONLINE,
        `Consumer not online, so can not reset offset, Group: ${group} Topic: ${topic} Timestamp: ${timestamp}`,
      );
    }
    const extFields = ResetOffsetRequestHeader.encode({ topic, group, timestamp, isForce: false });
    // C++ clients read the offsets as a list: they have no parser for object-keyed maps.
    const body =
      request.language === 'CPP' ? encodeResetOffsetBodyForC(offsets) : encodeResetOffsetBody(offsets);
    for (const info of g.channels.values()) {
      if (info.version < MIN_VERSION_RESET_AND_STATUS) return tooOldClient(request, info.version);
      const sent = b.notifyClient(
        info.channel,
        createRequest(RequestCode.RESET_CONSUMER_CLIENT_OFFSET, { extFields, body }),
      );
      if (sent) b.log.info({ topic, group, clientId: info.clientId }, 'reset offset sent to the consumer');
      else
        b.log.warn(
          { topic, group, clientId: info.clientId },
          'reset offset: the consumer connection is closed',
        );
    }
    return success(request, { body: encodeResetOffsetBody(offsets) });
  };

  const consumerStatus: RequestHandler = async (request, ctx) => {
    const h = decodeHeader(request, GetConsumerStatusRequestHeader);
    if (isErrorResponse(h)) return h;
    const { topic, group } = h;
    // Upstream's field name; it carries a client id.
    const only = h.clientAddr ? h.clientAddr : undefined;
    b.log.info({ peer: ctx.channel.remoteAddress, topic, group }, 'consumer status requested');
    const g = b.consumers.get(group);
    if (!g || g.channels.size === 0) {
      return failure(
        request,
        ResponseCode.SYSTEM_ERROR,
        `No Any Consumer online in the consumer group: [${group}]`,
      );
    }
    const asked = [];
    for (const info of g.channels.values()) {
      if (info.version < MIN_VERSION_RESET_AND_STATUS) return tooOldClient(request, info.version);
      if (only === undefined || only === info.clientId) asked.push(info);
    }
    const consumerTable = new Map<string, [MessageQueue, number][]>();
    await Promise.all(
      asked.map(async (info) => {
        const call = createRequest(RequestCode.GET_CONSUMER_STATUS_FROM_CLIENT, {
          extFields: GetConsumerStatusRequestHeader.encode({ topic, group }),
        });
        try {
          const answer = await b.callClient(info.channel, call, CONSUMER_STATUS_TIMEOUT_MS);
          if (answer.code === ResponseCode.SUCCESS && answer.body) {
            consumerTable.set(info.clientId, decodeGetConsumerStatusBody(answer.body).messageQueueTable);
          }
        } catch (err) {
          b.log.warn(
            { topic, group, clientId: info.clientId, err: errorMessage(err) },
            'consumer status: the consumer did not answer',
          );
        }
      }),
    );
    return success(request, { body: encodeGetConsumerStatusBody({ messageQueueTable: [], consumerTable }) });
  };

  return { runningInfo, consumeMessageDirectly, resetOffset, consumerStatus };
}
