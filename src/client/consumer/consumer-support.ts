/**
 * Pieces both consumers share: queue offset lookups on a queue's master, where a queue new to
 * the group starts (upstream's computePullFromWhere), and the running-info snapshot.
 */
import { RmqError, ErrorCode } from '../../common/errors.js';
import { RETRY_GROUP_TOPIC_PREFIX } from '../../common/message/message-const.js';
import { MASTER_ID } from '../../protocol/route-data.js';
import type { MQClientInstance } from '../client-instance.js';
import type { MessageQueue } from '../message/message-queue.js';
import type { ConsumerConfig } from './consumer-options.js';
import { parseTimestamp } from './consumer-options.js';
import type { ConsumerRunningInfo, ProcessQueueInfo } from './consumer-running-info.js';
import { OFFSET_NOT_FOUND, type OffsetStore } from './offset-store.js';
import type { RebalanceImpl } from './rebalance-impl.js';

/** The master of the queue's broker, refreshing the route once if it is unknown. */
export async function masterAddrOf(instance: MQClientInstance, mq: MessageQueue): Promise<string> {
  let found = instance.findBrokerAddressInSubscribe(mq.brokerName, MASTER_ID, true);
  if (!found) {
    await instance.updateTopicRouteInfoFromNameServer(mq.topic);
    found = instance.findBrokerAddressInSubscribe(mq.brokerName, MASTER_ID, true);
  }
  if (!found)
    throw new RmqError(ErrorCode.BROKER_NOT_FOUND, `The broker[${mq.brokerName}] not exist`, {
      retriable: true,
    });
  return found.addr;
}

export async function maxOffsetOf(instance: MQClientInstance, mq: MessageQueue): Promise<number> {
  return instance.api.getMaxOffset(await masterAddrOf(instance, mq), mq);
}

export async function minOffsetOf(instance: MQClientInstance, mq: MessageQueue): Promise<number> {
  return instance.api.getMinOffset(await masterAddrOf(instance, mq), mq);
}

export async function searchOffsetOf(
  instance: MQClientInstance,
  mq: MessageQueue,
  timestamp: number,
): Promise<number> {
  return instance.api.searchOffset(await masterAddrOf(instance, mq), mq, timestamp);
}

/**
 * Where to start a queue: its committed offset if the group has one; otherwise per
 * consumeFromWhere the queue's end (LAST), 0 (FIRST) or the first message stored at
 * consumeTimestamp (TIMESTAMP). Retry topics start at 0 (LAST) or the end (TIMESTAMP), as upstream.
 * Negative = unknown now (the store could not be asked); the rebalance tries again.
 */
export async function computePullFromWhere(
  instance: MQClientInstance,
  store: OffsetStore,
  config: ConsumerConfig,
  mq: MessageQueue,
): Promise<number> {
  const last = await store.readOffsetFromStore(mq);
  if (last >= 0) return last;
  if (last !== OFFSET_NOT_FOUND) return -1;
  const retry = mq.topic.startsWith(RETRY_GROUP_TOPIC_PREFIX);
  switch (config.consumeFromWhere) {
    case 'CONSUME_FROM_FIRST_OFFSET':
      return 0;
    case 'CONSUME_FROM_TIMESTAMP':
      if (retry) return maxOffsetOf(instance, mq);
      return searchOffsetOf(instance, mq, parseTimestamp(config.consumeTimestamp));
    default:
      return retry ? 0 : maxOffsetOf(instance, mq);
  }
}

export function runningInfoOf(
  properties: Record<string, string>,
  rebalance: RebalanceImpl,
  store: OffsetStore,
): ConsumerRunningInfo {
  const mqTable: [MessageQueue, ProcessQueueInfo][] = [];
  for (const { mq, pq } of rebalance.processQueueTable.values()) {
    mqTable.push([
      mq,
      {
        commitOffset: store.readOffsetFromMemory(mq),
        cachedMsgMinOffset: pq.minOffset ?? 0,
        cachedMsgMaxOffset: pq.maxOffset ?? 0,
        cachedMsgCount: pq.msgCount,
        cachedMsgSizeInMiB: Math.floor(pq.msgSize / (1024 * 1024)),
        transactionMsgMinOffset: 0,
        transactionMsgMaxOffset: 0,
        transactionMsgCount: 0,
        locked: pq.locked,
        tryUnlockTimes: 0,
        lastLockTimestamp: pq.lastLockTimestamp,
        droped: pq.dropped,
        lastPullTimestamp: pq.lastPullTimestamp,
        lastConsumeTimestamp: pq.lastConsumeTimestamp,
      },
    ]);
  }
  return {
    properties: { ...properties, PROP_CLIENT_VERSION: 'V4_9_8' },
    subscriptionSet: [...rebalance.subscriptionInner.values()],
    mqTable,
  };
}
