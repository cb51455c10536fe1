/**
 * PULL_MESSAGE (11): checks as upstream (broker/group/topic permissions, queue id, subscription
 * from the request or from the group's heartbeat), reads from the store, maps the store status to
 * the response code, and parks the request for long polling when nothing is there yet. Every
 * answer carries suggestWhichBrokerId, nextBeginOffset, minOffset and maxOffset (ali-ons reads
 * them unconditionally). The consumer's commit offset piggybacks on the first evaluation.
 * Hot path: headers through hot-headers.ts, and the body is the store's read buffer itself when
 * the records found lie back to back in it (no second copy per pull).
 */
import type { Logger } from '../../common/logger.js';
import { errorMessage } from '../../common/errors.js';
import { createResponse, type RemotingCommand } from '../../remoting/remoting-command.js';
import type { Channel } from '../../remoting/channel.js';
import type { RequestHandler } from '../../remoting/dispatcher.js';
import { ResponseCode } from '../../protocol/response-code.js';
import { PullSysFlag, type PullMessageRequest } from '../../protocol/broker-headers.js';
import { decodePullRequest, encodePullResponse } from '../../protocol/hot-headers.js';
import { failure } from '../../protocol/request-helpers.js';
import { buildSubscriptionData, type SubscriptionData } from '../../protocol/heartbeat.js';
import { isReadable } from '../../protocol/topic-config.js';
import { MASTER_ID } from '../../protocol/route-data.js';
import { GetMessageStatus, type GetMessageResult } from '../../store/store-types.js';
import { ExpressionMessageFilter } from '../filter/expression-message-filter.js';
import type { BrokerController } from '../broker-controller.js';

const FAQ = '\nSee http://rocketmq.apache.org/docs/faq/ for further details.';

export class PullMessageProcessor {
  private readonly log: Logger;

  constructor(private readonly broker: BrokerController) {
    this.log = broker.log.child({ part: 'pull' });
  }

  readonly handle: RequestHandler = (request, ctx) => this.process(request, ctx.channel, true);

  /** Re-runs a parked pull (long polling wake-up) and writes its answer. */
  wakeUp(request: RemotingCommand, channel: Channel): void {
    this.process(request, channel, false).then(
      (response) => {
        if (response) channel.write(response);
      },
      (err: unknown) => {
        this.log.warn({ err: errorMessage(err) }, 'pull after wake-up failed');
        channel.write(failure(request, ResponseCode.SYSTEM_ERROR, errorMessage(err)));
      },
    );
  }

  async process(
    request: RemotingCommand,
    channel: Channel,
    allowSuspend: boolean,
  ): Promise<RemotingCommand | null> {
    const decoded = decodePullRequest(request.extFields);
    if (!decoded.ok) return failure(request, ResponseCode.SYSTEM_ERROR, decoded.error);
    const h = decoded.value;
    const b = this.broker;
    if (!isReadable(b.config.brokerPermission)) {
      return failure(
        request,
        ResponseCode.NO_PERMISSION,
        `the broker[${b.config.brokerIP1}] pulling message is forbidden`,
      );
    }
    const group = b.groups.findOrCreate(h.consumerGroup);
    if (!group) {
      return failure(
        request,
        ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST,
        `subscription group [${h.consumerGroup}] does not exist,${FAQ}`,
      );
    }
    if (!group.consumeEnable) {
      return failure(
        request,
        ResponseCode.NO_PERMISSION,
        `subscription group no permission, ${h.consumerGroup}`,
      );
    }
    const tc = b.topics.select(h.topic);
    if (!tc) {
      this.log.warn({ topic: h.topic, peer: channel.remoteAddress }, 'pull from a topic that does not exist');
      return failure(
        request,
        ResponseCode.TOPIC_NOT_EXIST,
        `topic[${h.topic}] not exist, apply first please!${FAQ}`,
      );
    }
    if (!isReadable(tc.perm)) {
      return failure(
        request,
        ResponseCode.NO_PERMISSION,
        `the topic[${h.topic}] pulling message is forbidden`,
      );
    }
    if (h.queueId < 0 || h.queueId >= tc.readQueueNums) {
      return failure(
        request,
        ResponseCode.SYSTEM_ERROR,
        `queueId[${h.queueId}] is illegal, topic:[${h.topic}] topicConfig.readQueueNums:[${tc.readQueueNums}] consumer:[${channel.remoteAddress}]`,
      );
    }

    const sub = this.subscription(request, h);
    if ('opaque' in sub) return sub;
    if (sub.expressionType !== 'TAG') {
      return failure(
        request,
        ResponseCode.SYSTEM_ERROR,
        'The broker does not support consumer to filter message by SQL92',
      );
    }

    // Commit before the store read: applied after it, this offset could overtake a later
    // UPDATE_CONSUMER_OFFSET from the same client (e.g. its final commit at shutdown).
    this.commitPiggyback(h, allowSuspend);
    const filter = new ExpressionMessageFilter(sub);
    const result = await b.store.getMessage(
      h.consumerGroup,
      h.topic,
      h.queueId,
      h.queueOffset,
      h.maxMsgNums,
      filter,
    );
    const response = this.toResponse(request, h, result, group.brokerId, group.whichBrokerWhenConsumeSlowly);

    if (
      response.code === ResponseCode.PULL_NOT_FOUND &&
      allowSuspend &&
      (h.sysFlag & PullSysFlag.SUSPEND) !== 0
    ) {
      const hold = b.config.longPollingEnable ? h.suspendTimeoutMillis : b.config.shortPollingTimeMills;
      b.pullHold.suspend(h.topic, h.queueId, {
        request,
        channel,
        pullFromThisOffset: h.queueOffset,
        deadline: Date.now() + hold,
        filter,
      });
      return null;
    }
    return response;
  }

  private commitPiggyback(h: PullMessageRequest, allowSuspend: boolean): void {
    if (
      allowSuspend &&
      (h.sysFlag & PullSysFlag.COMMIT_OFFSET) !== 0 &&
      this.broker.storeConfig.brokerRole !== 'SLAVE'
    ) {
      this.broker.offsets.commit(h.consumerGroup, h.topic, h.queueId, h.commitOffset);
    }
  }

  /** The subscription to filter with: from the request, or the one the group registered. */
  private subscription(request: RemotingCommand, h: PullMessageRequest): SubscriptionData | RemotingCommand {
    if ((h.sysFlag & PullSysFlag.SUBSCRIPTION) !== 0) {
      try {
        return buildSubscriptionData(h.topic, h.subscription, h.expressionType, h.subVersion);
      } catch (err) {
        this.log.warn({ subscription: h.subscription, err: errorMessage(err) }, 'cannot parse subscription');
        return failure(
          request,
          ResponseCode.SUBSCRIPTION_PARSE_FAILED,
          "parse the consumer's subscription failed",
        );
      }
    }
    const info = this.broker.consumers.get(h.consumerGroup);
    if (!info) {
      return failure(
        request,
        ResponseCode.SUBSCRIPTION_NOT_EXIST,
        `the consumer's group info not exist${FAQ}`,
      );
    }
    const group = this.broker.groups.get(h.consumerGroup);
    if (group && !group.consumeBroadcastEnable && info.messageModel === 'BROADCASTING') {
      return failure(
        request,
        ResponseCode.NO_PERMISSION,
        `the consumer group[${h.consumerGroup}] can not consume by broadcast way`,
      );
    }
    const sub = info.subscriptions.get(h.topic);
    if (!sub)
      return failure(
        request,
        ResponseCode.SUBSCRIPTION_NOT_EXIST,
        `the consumer's subscription not exist${FAQ}`,
      );
    if (sub.subVersion < h.subVersion) {
      return failure(request, ResponseCode.SUBSCRIPTION_NOT_LATEST, "the consumer's subscription not latest");
    }
    return sub;
  }

  private toResponse(
    request: RemotingCommand,
    h: PullMessageRequest,
    r: GetMessageResult,
    groupBrokerId: number,
    slowBrokerId: number,
  ): RemotingCommand {
    const b = this.broker;
    let code: number;
    let nextBeginOffset = r.nextBeginOffset;
    switch (r.status) {
      case GetMessageStatus.FOUND:
        code = ResponseCode.SUCCESS;
        break;
      case GetMessageStatus.MESSAGE_WAS_REMOVING:
      case GetMessageStatus.NO_MATCHED_MESSAGE:
        code = ResponseCode.PULL_RETRY_IMMEDIATELY;
        break;
      case GetMessageStatus.NO_MATCHED_LOGIC_QUEUE:
      case GetMessageStatus.NO_MESSAGE_IN_QUEUE:
        code = h.queueOffset !== 0 ? ResponseCode.PULL_OFFSET_MOVED : ResponseCode.PULL_NOT_FOUND;
        break;
      case GetMessageStatus.OFFSET_FOUND_NULL:
      case GetMessageStatus.OFFSET_OVERFLOW_ONE:
        code = ResponseCode.PULL_NOT_FOUND;
        break;
      case GetMessageStatus.OFFSET_OVERFLOW_BADLY:
      case GetMessageStatus.OFFSET_TOO_SMALL:
        code = ResponseCode.PULL_OFFSET_MOVED;
        break;
      default:
        code = ResponseCode.SYSTEM_ERROR;
    }
    const slave = b.storeConfig.brokerRole === 'SLAVE';
    let suggest = r.suggestPullingFromSlave ? slowBrokerId : groupBrokerId;
    if (!b.config.slaveReadEnable) suggest = MASTER_ID;
    if (slave && !b.config.slaveReadEnable) {
      code = ResponseCode.PULL_RETRY_IMMEDIATELY;
      suggest = MASTER_ID;
      nextBeginOffset = h.queueOffset;
    } else if (slave && code === ResponseCode.PULL_OFFSET_MOVED && !b.storeConfig.offsetCheckInSlave) {
      code = ResponseCode.PULL_RETRY_IMMEDIATELY;
      nextBeginOffset = h.queueOffset;
    }
    const extFields = encodePullResponse({
      suggestWhichBrokerId: suggest,
      nextBeginOffset,
      minOffset: r.minOffset,
      maxOffset: r.maxOffset,
    });
    if (code === ResponseCode.SUCCESS) {
      b.stats.pulled(h.consumerGroup, h.topic, r.messages.length, r.bufferTotalSize);
      const body = joinRecords(r.messages, r.bufferTotalSize);
      return createResponse(request, code, { extFields, body, remark: r.status });
    }
    return createResponse(request, code, { extFields, remark: r.status });
  }
}

/**
 * The records as one body: a view when they lie back to back in one buffer (the store copies a
 * pull's records into a fresh buffer of their own, get-message.ts readPicked), else a copy.
 */
export function joinRecords(records: readonly Buffer[], total: number): Buffer {
  const first = records[0]!;
  if (records.length === 1) return first;
  let end = first.byteOffset + first.length;
  for (let i = 1; i < records.length; i++) {
    const r = records[i]!;
    if (r.buffer !== first.buffer || r.byteOffset !== end) return Buffer.concat(records, total);
    end += r.length;
  }
  return Buffer.from(first.buffer, first.byteOffset, end - first.byteOffset);
}
