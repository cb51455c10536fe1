/**
 * HEART_BEAT (34), UNREGISTER_CLIENT (35) and CHECK_CLIENT_CONFIG (46). A heartbeat registers the
 * client's producer and consumer groups on its connection, auto-creates each consumer group's
 * config and its `%RETRY%<group>` topic, and records the subscriptions; a change of members or
 * subscriptions notifies the group's consumers.
 */
import { errorMessage } from '../../common/errors.js';
import { retryTopic } from '../../common/message/message-const.js';
import type { RequestHandler } from '../../remoting/dispatcher.js';
import { ResponseCode } from '../../protocol/response-code.js';
import { decodeHeartbeatData } from '../../protocol/heartbeat.js';
import { UnregisterClientRequestHeader } from '../../protocol/broker-headers.js';
import { decodeHeader, failure, isErrorResponse, success } from '../../protocol/request-helpers.js';
import { PermName, TopicSysFlag } from '../../protocol/topic-config.js';
import type { BrokerController } from '../broker-controller.js';

export function clientManageHandlers(b: BrokerController): {
  heartbeat: RequestHandler;
  unregister: RequestHandler;
  checkClientConfig: RequestHandler;
} {
  const heartbeat: RequestHandler = (request, ctx) => {
    let hb;
    try {
      hb = decodeHeartbeatData(request.body);
    } catch (err) {
      return failure(request, ResponseCode.SYSTEM_ERROR, errorMessage(err));
    }
    const now = Date.now();
    const info = {
      channel: ctx.channel,
      clientId: hb.clientID,
      language: request.language,
      version: request.version,
      lastUpdate: now,
    };
    for (const c of hb.consumerDataSet) {
      const group = b.groups.findOrCreate(c.groupName);
      let notify = b.config.notifyConsumerIdsChangedEnable;
      if (group) {
        notify = group.notifyConsumerIdsChangedEnable;
        const sysFlag = c.unitMode ? TopicSysFlag.UNIT_SUB : 0;
        if (group.retryQueueNums > 0) {
          b.topics.createIfAbsent(
            retryTopic(c.groupName),
            group.retryQueueNums,
            PermName.READ | PermName.WRITE,
            sysFlag,
          );
        }
      }
      const changed = b.consumers.register(
        c.groupName,
        { ...info },
        c.consumeType,
        c.messageModel,
        c.consumeFromWhere,
        c.subscriptionDataSet,
        notify,
      );
      if (changed) {
        b.log.info(
          { group: c.groupName, clientId: hb.clientID, peer: ctx.channel.remoteAddress },
          'consumer group changed',
        );
      }
    }
    for (const p of hb.producerDataSet) b.producers.register(p.groupName, { ...info });
    return success(request);
  };

  const unregister: RequestHandler = (request, ctx) => {
    const h = decodeHeader(request, UnregisterClientRequestHeader);
    if (isErrorResponse(h)) return h;
    if (h.producerGroup) b.producers.unregister(h.producerGroup, ctx.channel);
    if (h.consumerGroup) {
      const group = b.groups.get(h.consumerGroup);
      const notify = group?.notifyConsumerIdsChangedEnable ?? b.config.notifyConsumerIdsChangedEnable;
      b.consumers.unregister(h.consumerGroup, ctx.channel, notify);
    }
    return success(request);
  };

  // Only SQL92 subscriptions are checked by clients; this broker filters by tag only.
  const checkClientConfig: RequestHandler = (request) => {
    let sub: { expressionType?: unknown } | undefined;
    try {
      sub = (
        JSON.parse(request.body?.toString('utf8') ?? '{}') as {
          subscriptionData?: { expressionType?: unknown };
        }
      ).subscriptionData;
    } catch {
      return failure(request, ResponseCode.SYSTEM_ERROR, 'bad CheckClientRequestBody');
    }
    if (sub && sub.expressionType !== undefined && String(sub.expressionType).toUpperCase() !== 'TAG') {
      return failure(
        request,
        ResponseCode.SYSTEM_ERROR,
        'The broker does not support consumer to filter message by SQL92',
      );
    }
    return success(request);
  };

  return { heartbeat, unregister, checkClientConfig };
}
