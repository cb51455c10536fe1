/**
 * A queue of a topic on one broker (upstream's MessageQueue). Queues are plain objects; `mqKey`
 * gives the string identity used in maps, `compareMessageQueue` upstream's sort order.
 */
import { compareMessageQueue, mqKey, type MessageQueue } from '../../protocol/admin-bodies.js';

export { compareMessageQueue, mqKey, type MessageQueue };

export function messageQueue(topic: string, brokerName: string, queueId: number): MessageQueue {
  return { topic, brokerName, queueId };
}

export function messageQueueToString(mq: MessageQueue): string {
  return `MessageQueue [topic=${mq.topic}, brokerName=${mq.brokerName}, queueId=${mq.queueId}]`;
}

export function sameQueue(a: MessageQueue, b: MessageQueue): boolean {
  return a.queueId === b.queueId && a.brokerName === b.brokerName && a.topic === b.topic;
}
