/**
 * CONSUME_MESSAGE_DIRECTLY on the client (upstream's consumeMessageDirectly of the two consume
 * services): an admin names a stored message and this consumer's listener is run on it once,
 * outside the pull loop. Nothing is committed, retried or sent back whatever the listener answers:
 * the answer is only reported, as a ConsumeMessageDirectlyResult.
 */
import { CMResult, type ConsumeMessageDirectlyResult } from '../../protocol/admin-call-bodies.js';
import type { MessageExt } from '../message/message-ext.js';
import { messageQueue } from '../message/message-queue.js';
import {
  ConsumeConcurrentlyStatus,
  type MessageListenerConcurrently,
} from './consume-concurrently-service.js';
import { ConsumeOrderlyStatus, type MessageListenerOrderly } from './consume-orderly-service.js';
import { resetRetryTopic } from './consume-message-service.js';

export type DirectListener =
  { orderly: false; fn: MessageListenerConcurrently } | { orderly: true; fn: MessageListenerOrderly };

/** What the listener's answer is reported as; undefined for a status with no CMResult. */
function toCMResult(status: unknown): CMResult | undefined {
  if (status === undefined || status === null) return CMResult.CR_RETURN_NULL;
  switch (status) {
    case ConsumeConcurrentlyStatus.CONSUME_SUCCESS:
    case ConsumeOrderlyStatus.SUCCESS:
      return CMResult.CR_SUCCESS;
    case ConsumeConcurrentlyStatus.RECONSUME_LATER:
    case ConsumeOrderlyStatus.SUSPEND_CURRENT_QUEUE_A_MOMENT:
      return CMResult.CR_LATER;
    // Java's deprecated orderly answers, which a JS listener may still return as strings.
    case 'COMMIT':
      return CMResult.CR_COMMIT;
    case 'ROLLBACK':
      return CMResult.CR_ROLLBACK;
    default:
      return undefined;
  }
}

/** Java's exception summary: the error, then where it was thrown. */
function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const at = err.stack
    ?.split('\n')
    .find((l) => l.trimStart().startsWith('at '))
    ?.trim();
  return at ? `${err.name}: ${err.message}, ${at}` : `${err.name}: ${err.message}`;
}

export async function consumeMessageDirectly(
  listener: DirectListener,
  group: string,
  msg: MessageExt,
  brokerName: string,
): Promise<ConsumeMessageDirectlyResult> {
  const mq = messageQueue(msg.topic, brokerName, msg.queueId);
  // A message of the group's retry topic is shown with its original topic, as in normal consumption.
  resetRetryTopic(msg, group);
  const begin = Date.now();
  let consumeResult: CMResult | undefined;
  let remark: string | undefined;
  try {
    const status = listener.orderly
      ? await listener.fn([msg], { messageQueue: mq, suspendCurrentQueueTimeMillis: -1 })
      : await listener.fn([msg], {
          messageQueue: mq,
          delayLevelWhenNextConsume: 0,
          ackIndex: Number.MAX_SAFE_INTEGER,
          slot: 1,
        });
    consumeResult = toCMResult(status);
  } catch (err) {
    consumeResult = CMResult.CR_THROW_EXCEPTION;
    remark = describeError(err);
  }
  return {
    order: listener.orderly,
    // Our orderly context has no autoCommit switch: offsets are always committed, as Java's default.
    autoCommit: true,
    consumeResult,
    remark,
    spentTimeMills: Date.now() - begin,
  };
}
