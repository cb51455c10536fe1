/**
 * CONSUMER_SEND_MSG_BACK (36): a consumer gives a message back (its listener asked to retry it,
 * or threw). The broker copies it, by its commit-log offset, into `%RETRY%<group>` with delay
 * level `3 + reconsumeTimes` (or the level the consumer asked for) and reconsumeTimes + 1, so it
 * comes back to the same group later through SCHEDULE_TOPIC_XXXX. Past the group's
 * maxReconsumeTimes (or with a negative level) it goes to `%DLQ%<group>` instead. The copy keeps
 * the original topic in RETRY_TOPIC and the first message id in ORIGIN_MESSAGE_ID.
 */
import { randomInt } from 'node:crypto';
import { MessageProperty, dlqTopic, retryTopic } from '../../common/message/message-const.js';
import { appendProperty } from '../../common/message/message-properties.js';
import type { RequestHandler } from '../../remoting/dispatcher.js';
import { ResponseCode } from '../../protocol/response-code.js';
import { ConsumerSendMsgBackRequestHeader } from '../../protocol/broker-headers.js';
import { decodeHeader, failure, isErrorResponse, success } from '../../protocol/request-helpers.js';
import { PermName, TopicSysFlag, isWriteable } from '../../protocol/topic-config.js';
import { PutMessageStatus } from '../../store/store-types.js';
import type { BrokerController } from '../broker-controller.js';

/** MQVersion V3_4_9: from this client version the header's maxReconsumeTimes is honoured. */
const V3_4_9 = 121;

export function consumerSendBackHandler(b: BrokerController): RequestHandler {
  return async (request) => {
    const h = decodeHeader(request, ConsumerSendMsgBackRequestHeader);
    if (isErrorResponse(h)) return h;
    const group = b.groups.findOrCreate(h.group);
    if (!group) {
      return failure(
        request,
        ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST,
        `subscription group not exist, ${h.group}`,
      );
    }
    if (!isWriteable(b.config.brokerPermission)) {
      return failure(
        request,
        ResponseCode.NO_PERMISSION,
        `the broker[${b.config.brokerIP1}] sending message is forbidden`,
      );
    }
    if (group.retryQueueNums <= 0) return success(request);

    let topic = retryTopic(h.group);
    let queueId = randomInt(0, group.retryQueueNums);
    const sysFlag = h.unitMode ? TopicSysFlag.UNIT_SUB : 0;
    b.topics.createIfAbsent(topic, group.retryQueueNums, PermName.READ | PermName.WRITE, sysFlag);

    const msg = await b.store.lookMessageByOffset(h.offset);
    if (!msg)
      return failure(request, ResponseCode.SYSTEM_ERROR, `look message by offset failed, ${h.offset}`);

    const props = new Map(msg.properties);
    if (!props.has(MessageProperty.RETRY_TOPIC)) props.set(MessageProperty.RETRY_TOPIC, msg.topic);
    props.set(MessageProperty.WAIT_STORE_MSG_OK, 'false');
    let max = group.retryMaxTimes;
    if (request.version >= V3_4_9 && h.maxReconsumeTimes !== undefined) max = h.maxReconsumeTimes;
    let delayLevel = h.delayLevel;
    if (msg.reconsumeTimes >= max || delayLevel < 0) {
      topic = dlqTopic(h.group);
      queueId = 0;
      b.topics.createIfAbsent(topic, 1, PermName.READ | PermName.WRITE);
      props.delete(MessageProperty.DELAY_TIME_LEVEL);
      b.log.info(
        { group: h.group, msgId: msg.msgId, reconsumeTimes: msg.reconsumeTimes, max },
        'message moved to the dead-letter queue',
      );
    } else {
      if (delayLevel === 0) delayLevel = 3 + msg.reconsumeTimes;
      props.set(MessageProperty.DELAY_TIME_LEVEL, String(delayLevel));
    }
    if (!props.get(MessageProperty.ORIGIN_MESSAGE_ID)) {
      props.set(MessageProperty.ORIGIN_MESSAGE_ID, h.originMsgId || msg.msgId);
    }
    let encoded = '';
    for (const [k, v] of props) encoded = appendProperty(encoded, k, v);

    const r = await b.putMessage({
      topic,
      queueId,
      body: msg.body,
      flag: msg.flag,
      properties: encoded,
      sysFlag: msg.sysFlag,
      bornTimestamp: msg.bornTimestamp,
      bornHost: msg.bornHost,
      reconsumeTimes: msg.reconsumeTimes + 1,
    });
    if (r.status === PutMessageStatus.PUT_OK || r.status === PutMessageStatus.FLUSH_DISK_TIMEOUT)
      return success(request);
    return failure(request, ResponseCode.SYSTEM_ERROR, r.remark ? `${r.status}: ${r.remark}` : r.status);
  };
}
