/**
 * Requests brokers send to this client (upstream's ClientRemotingProcessor):
 * - NOTIFY_CONSUMER_IDS_CHANGED (oneway): a group's members changed, rebalance now;
 * - RESET_CONSUMER_CLIENT_OFFSET: an admin reset the group's offsets of a topic;
 * - GET_CONSUMER_RUNNING_INFO: the consumer's config, subscriptions and queues (mqadmin consumerStatus);
 * - GET_CONSUMER_STATUS_FROM_CLIENT: the consumer's offsets of a topic;
 * - CONSUME_MESSAGE_DIRECTLY: run the push consumer's listener once on the stored message in the
 *   body (mqadmin consumeMessage) and report its answer;
 * - CHECK_TRANSACTION_STATE (oneway): the broker asks the transaction producer of the half
 *   message's group (its PGROUP property) for the outcome; the producer answers with a oneway
 *   END_TRANSACTION (transaction-producer.ts).
 */
import { errorMessage } from '../common/errors.js';
import { MessageProperty } from '../common/message/message-const.js';
import { decodeRecords } from '../common/message/message-record.js';
import { RequestDispatcher, type RequestHandler } from '../remoting/dispatcher.js';
import type { RemotingCommand } from '../remoting/remoting-command.js';
import { RequestCode } from '../protocol/request-code.js';
import { ResponseCode } from '../protocol/response-code.js';
import {
  CheckTransactionStateRequestHeader,
  ConsumeMessageDirectlyResultRequestHeader,
  ConsumerGroupRequestHeader,
  GetConsumerRunningInfoRequestHeader,
  GetConsumerStatusRequestHeader,
  ResetOffsetRequestHeader,
} from '../protocol/broker-headers.js';
import { decodeResetOffsetBody, jsonBody } from '../protocol/admin-bodies.js';
import { encodeConsumeMessageDirectlyResult } from '../protocol/admin-call-bodies.js';
import { decodeHeader, failure, isErrorResponse, success } from '../protocol/request-helpers.js';
import type { MQClientInstance } from './client-instance.js';
import { encodeConsumerRunningInfo } from './consumer/consumer-running-info.js';
import { MessageExt } from './message/message-ext.js';

export function createClientDispatcher(instance: MQClientInstance): RequestDispatcher {
  const d = new RequestDispatcher(instance.log);

  const notifyConsumerIdsChanged: RequestHandler = (request) => {
    const h = ConsumerGroupRequestHeader.decode(request.extFields);
    instance.log.debug(
      { group: h.ok ? h.value.consumerGroup : undefined },
      'consumer ids changed, rebalancing',
    );
    instance.rebalanceImmediately();
    return null;
  };

  const resetOffset: RequestHandler = async (request) => {
    const h = decodeHeader(request, ResetOffsetRequestHeader);
    if (isErrorResponse(h)) return h;
    const consumer = instance.consumer(h.group);
    if (!consumer) return null;
    try {
      const offsets = request.body ? decodeResetOffsetBody(request.body) : [];
      await consumer.resetOffset(h.topic, offsets);
    } catch (err) {
      instance.log.warn({ group: h.group, topic: h.topic, err: errorMessage(err) }, 'reset offset failed');
    }
    return null;
  };

  /** Upstream's answer when the group asked about has no consumer in this client. */
  const noSuchGroup = (request: RemotingCommand, group: string): RemotingCommand =>
    failure(request, ResponseCode.SYSTEM_ERROR, `The Consumer Group <${group}> not exist in this consumer`);

  const runningInfo: RequestHandler = (request) => {
    const h = decodeHeader(request, GetConsumerRunningInfoRequestHeader);
    if (isErrorResponse(h)) return h;
    const consumer = instance.consumer(h.consumerGroup);
    if (!consumer) return noSuchGroup(request, h.consumerGroup);
    return success(request, { body: encodeConsumerRunningInfo(consumer.runningInfo()) });
  };

  const consumerStatus: RequestHandler = (request) => {
    const h = decodeHeader(request, GetConsumerStatusRequestHeader);
    if (isErrorResponse(h)) return h;
    const consumer = instance.consumer(h.group);
    return success(request, {
      body: jsonBody({ messageQueueTable: new Map(consumer?.consumerStatus(h.topic) ?? []) }),
    });
  };

  const consumeMessageDirectly: RequestHandler = async (request, ctx) => {
    const h = decodeHeader(request, ConsumeMessageDirectlyResultRequestHeader);
    if (isErrorResponse(h)) return h;
    const consumer = instance.consumer(h.consumerGroup);
    if (!consumer) return noSuchGroup(request, h.consumerGroup);
    if (!consumer.consumeMessageDirectly) {
      return failure(
        request,
        ResponseCode.SYSTEM_ERROR,
        `The Consumer Group <${h.consumerGroup}> is not a push consumer: it has no listener to run`,
      );
    }
    let stored;
    try {
      stored = request.body ? decodeRecords(request.body)[0] : undefined;
    } catch (err) {
      return failure(request, ResponseCode.SYSTEM_ERROR, `bad message in the body: ${errorMessage(err)}`);
    }
    if (!stored) return failure(request, ResponseCode.SYSTEM_ERROR, 'no message in the body');
    const brokerName = h.brokerName ?? instance.findBrokerNameByAddr(ctx.channel.remoteAddress) ?? '';
    const result = await consumer.consumeMessageDirectly(new MessageExt(stored, brokerName), brokerName);
    return success(request, { body: encodeConsumeMessageDirectlyResult(result) });
  };

  const checkTransactionState: RequestHandler = (request, ctx) => {
    const h = CheckTransactionStateRequestHeader.decode(request.extFields);
    const stored = request.body ? decodeRecords(request.body)[0] : undefined;
    if (!h.ok || !stored) {
      instance.log.warn(
        { broker: ctx.channel.remoteAddress, err: h.ok ? 'no message in the body' : h.error },
        'malformed CHECK_TRANSACTION_STATE ignored',
      );
      return null;
    }
    const addr = ctx.channel.remoteAddress;
    const msg = new MessageExt(stored, h.value.bname ?? instance.findBrokerNameByAddr(addr) ?? '');
    const uniq = msg.properties.get(MessageProperty.UNIQ_CLIENT_MESSAGE_ID_KEYIDX);
    if (uniq) msg.transactionId = uniq;
    const group = msg.properties.get(MessageProperty.PRODUCER_GROUP);
    const producer = group ? instance.producer(group) : undefined;
    if (!producer?.checkTransactionState) {
      instance.log.warn(
        { group, broker: addr },
        'transaction check for a group without a transaction producer here',
      );
      return null;
    }
    producer.checkTransactionState(addr, msg, h.value);
    return null;
  };

  d.register(RequestCode.NOTIFY_CONSUMER_IDS_CHANGED, notifyConsumerIdsChanged)
    .register(RequestCode.RESET_CONSUMER_CLIENT_OFFSET, resetOffset)
    .register(RequestCode.GET_CONSUMER_RUNNING_INFO, runningInfo)
    .register(RequestCode.GET_CONSUMER_STATUS_FROM_CLIENT, consumerStatus)
    .register(RequestCode.CHECK_TRANSACTION_STATE, checkTransactionState)
    .register(RequestCode.CONSUME_MESSAGE_DIRECTLY, consumeMessageDirectly)
    .registerUnsupported(RequestCode.PUSH_REPLY_MESSAGE_TO_CLIENT, 'request-reply is not supported');
  return d;
}
