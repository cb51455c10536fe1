/**
 * How a clustering group shares a topic's queues. Every member computes its own share from the
 * same inputs — all queues sorted (topic, broker name, queue id) and all client ids sorted — so
 * the shares never overlap and together cover every queue, without the members talking.
 */
import type { MessageQueue } from '../message/message-queue.js';

export interface AllocateMessageQueueStrategy {
  readonly name: string;
  /** This client's queues; `mqAll` and `cidAll` arrive sorted. */
  allocate(
    group: string,
    currentCID: string,
    mqAll: readonly MessageQueue[],
    cidAll: readonly string[],
  ): MessageQueue[];
}

/**
 * Contiguous blocks (upstream's AllocateMessageQueueAveragely): with 8 queues and 3 clients the
 * shares are 3, 3, 2; with more clients than queues the extra clients get nothing.
 */
export const allocateMessageQueueAveragely: AllocateMessageQueueStrategy = {
  name: 'AVG',
  allocate(_group, currentCID, mqAll, cidAll) {
    const index = cidAll.indexOf(currentCID);
    if (index < 0 || mqAll.length === 0) return [];
    const n = mqAll.length;
    const c = cidAll.length;
    const mod = n % c;
    const averageSize = n <= c ? 1 : mod > 0 && index < mod ? Math.floor(n / c) + 1 : Math.floor(n / c);
    const startIndex = mod > 0 && index < mod ? index * averageSize : index * averageSize + mod;
    const range = Math.min(averageSize, n - startIndex);
    const out: MessageQueue[] = [];
    for (let i = 0; i < range; i++) out.push(mqAll[(startIndex + i) % n]!);
    return out;
  },
};

/** Round robin (upstream's AllocateMessageQueueAveragelyByCircle): queue i goes to client i mod c. */
export const allocateMessageQueueAveragelyByCircle: AllocateMessageQueueStrategy = {
  name: 'AVG_BY_CIRCLE',
  allocate(_group, currentCID, mqAll, cidAll) {
    const index = cidAll.indexOf(currentCID);
    if (index < 0) return [];
    return mqAll.filter((_, i) => i % cidAll.length === index);
  },
};
