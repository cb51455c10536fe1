/**
 * Handing a message the listener failed on back for a later retry (upstream's
 * DefaultMQPushConsumerImpl.sendMessageBack):
 * 1. CONSUMER_SEND_MSG_BACK to the master of the message's broker: the broker copies the stored
 *    message into %RETRY%<group> (delay level 3 + reconsumeTimes unless the listener chose one) or,
 *    past maxReconsumeTimes or with a negative level, into %DLQ%<group>;
 * 2. if that fails, a copy sent to %RETRY%<group> through the client's inner producer, carrying
 *    RETRY_TOPIC, ORIGIN_MESSAGE_ID and the counters RECONSUME_TIME / MAX_RECONSUME_TIMES (which
 *    the send path moves into the request header, so the broker can route it to the DLQ);
 * 3. if that fails too, the caller keeps the message and consumes it again locally.
 */
import type { Logger } from '../../common/logger.js';
import { errorMessage } from '../../common/errors.js';
import { MessageProperty, retryTopic } from '../../common/message/message-const.js';
import { formatSocketAddr } from '../../common/socket-address.js';
import type { MQClientInstance } from '../client-instance.js';
import { Message } from '../message/message.js';
import type { MessageExt } from '../message/message-ext.js';
import { innerProducerOf } from '../producer/inner-producer.js';

/** Java's timeout of CONSUMER_SEND_MSG_BACK. */
const SEND_BACK_TIMEOUT_MS = 5000;

/**
 * The copy of a failed message that the fallback sends to %RETRY%<group>. A negative
 * `delayLevel` asks for the dead-letter queue: the counters then say "retried enough".
 */
export function retryCopy(
  msg: MessageExt,
  group: string,
  delayLevel: number,
  maxReconsumeTimes: number,
): Message {
  const copy = new Message(retryTopic(group), msg.body);
  copy.flag = msg.flag;
  copy.properties = new Map(msg.properties);
  const p = copy.properties;
  p.set(MessageProperty.ORIGIN_MESSAGE_ID, p.get(MessageProperty.ORIGIN_MESSAGE_ID) || msg.msgId);
  p.set(MessageProperty.RETRY_TOPIC, msg.topic);
  p.delete(MessageProperty.TRANSACTION_PREPARED);
  const toDlq = delayLevel < 0;
  const times = toDlq ? Math.max(msg.reconsumeTimes, maxReconsumeTimes) : msg.reconsumeTimes + 1;
  p.set(MessageProperty.RECONSUME_TIME, String(times));
  p.set(MessageProperty.MAX_RECONSUME_TIMES, String(maxReconsumeTimes));
  if (toDlq) p.delete(MessageProperty.DELAY_TIME_LEVEL);
  else copy.delayTimeLevel = delayLevel > 0 ? delayLevel : 3 + msg.reconsumeTimes;
  return copy;
}

export class MessageBack {
  constructor(
    private readonly instance: MQClientInstance,
    private readonly group: string,
    readonly maxReconsumeTimes: number,
    private readonly log: Logger,
  ) {}

  /** True when the broker (directly or through the fallback send) took the message. */
  async send(msg: MessageExt, delayLevel: number): Promise<boolean> {
    const instance = this.instance;
    const addr = instance.findBrokerAddressInPublish(msg.brokerName) ?? formatSocketAddr(msg.storeHost);
    try {
      await instance.api.consumerSendMessageBack(
        addr,
        msg,
        this.group,
        delayLevel,
        this.maxReconsumeTimes,
        SEND_BACK_TIMEOUT_MS,
      );
      return true;
    } catch (err) {
      this.log.warn(
        { msgId: msg.msgId, addr, err: errorMessage(err) },
        'send message back failed; sending a copy to the retry topic instead',
      );
    }
    try {
      const producer = await innerProducerOf(instance);
      await producer.send(retryCopy(msg, this.group, delayLevel, this.maxReconsumeTimes));
      return true;
    } catch (err) {
      this.log.warn(
        { msgId: msg.msgId, err: errorMessage(err) },
        'sending the retry copy failed too; the message will be consumed again here',
      );
      return false;
    }
  }
}
