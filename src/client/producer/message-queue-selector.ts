/**
 * Selectors for `Producer.send(msg, selector, arg)`: the caller picks the queue, e.g. by an order
 * id so all messages of one order land in one queue and keep their order. As upstream's
 * SelectMessageQueueByHash (|hashCode(arg)| % n, Java's String.hashCode for strings) and
 * SelectMessageQueueByRandom.
 */
import { randomInt } from 'node:crypto';
import { javaStringHashCode } from '../../common/java-hash.js';
import type { MessageQueue } from '../message/message-queue.js';
import type { Message } from '../message/message.js';

export type MessageQueueSelector<A = unknown> = (
  mqs: readonly MessageQueue[],
  msg: Message,
  arg: A,
) => MessageQueue;

export const selectMessageQueueByHash: MessageQueueSelector<string | number> = (mqs, _msg, arg) => {
  const hash = typeof arg === 'number' ? arg | 0 : javaStringHashCode(String(arg));
  return mqs[Math.abs(hash % mqs.length)]!;
};

export const selectMessageQueueByRandom: MessageQueueSelector<unknown> = (mqs) =>
  mqs[randomInt(0, mqs.length)]!;
