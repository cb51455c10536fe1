/**
 * ConsumeStats of one consumer group on one topic: per queue, the broker's max offset, the group's
 * committed offset (negatives read as 0) and the store time of the last consumed message. Shared
 * by GET_CONSUME_STATS (read queues) and GET_BROKER_CONSUME_STATS (write queues), as upstream
 * builds the same table in both with that one difference.
 */
import type { MessageQueue, OffsetWrapper } from '../protocol/admin-bodies.js';
import type { BrokerController } from './broker-controller.js';

/**
 * False when the group is online with subscriptions, none of them to `topic`: upstream leaves such
 * topics out of the stats (offsets left over from an old subscription).
 */
export function countsTopic(b: BrokerController, group: string, topic: string): boolean {
  const online = b.consumers.get(group);
  return !online || online.subscriptions.size === 0 || online.subscriptions.has(topic);
}

export async function queueOffsetTable(
  b: BrokerController,
  group: string,
  topic: string,
  queueNums: number,
): Promise<[MessageQueue, OffsetWrapper][]> {
  const table: [MessageQueue, OffsetWrapper][] = [];
  for (let q = 0; q < queueNums; q++) {
    const brokerOffset = Math.max(0, b.store.getMaxOffsetInQueue(topic, q));
    const consumerOffset = Math.max(0, b.offsets.query(group, topic, q));
    let lastTimestamp = 0;
    if (consumerOffset > 0) {
      const ts = await b.store.getMessageStoreTimeStamp(topic, q, consumerOffset - 1);
      if (ts > 0) lastTimestamp = ts;
    }
    table.push([
      { topic, brokerName: b.config.brokerName, queueId: q },
      { brokerOffset, consumerOffset, lastTimestamp },
    ]);
  }
  return table;
}
