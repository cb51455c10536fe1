/**
 * The GET_CONSUMER_RUNNING_INFO answer a consumer gives (upstream's ConsumerRunningInfo):
 *   {"properties":{...},"subscriptionSet":[SubscriptionData...],
 *    "mqTable":{MessageQueue:ProcessQueueInfo,...},"statusTable":{},"jstack":""}
 * `mqTable` is keyed by MessageQueue objects the way fastjson writes such maps (what mqadmin and
 * the dashboard read).
 */
import { writeJson } from '../../protocol/fastjson.js';
import type { SubscriptionData } from '../../protocol/heartbeat.js';
import type { MessageQueue } from '../message/message-queue.js';

export interface ProcessQueueInfo {
  commitOffset: number;
  cachedMsgMinOffset: number;
  cachedMsgMaxOffset: number;
  cachedMsgCount: number;
  cachedMsgSizeInMiB: number;
  transactionMsgMinOffset: number;
  transactionMsgMaxOffset: number;
  transactionMsgCount: number;
  locked: boolean;
  tryUnlockTimes: number;
  lastLockTimestamp: number;
  droped: boolean;
  lastPullTimestamp: number;
  lastConsumeTimestamp: number;
}

export interface ConsumerRunningInfo {
  properties: Record<string, string>;
  subscriptionSet: SubscriptionData[];
  mqTable: [MessageQueue, ProcessQueueInfo][];
}

export function encodeConsumerRunningInfo(info: ConsumerRunningInfo): Buffer {
  return Buffer.from(
    writeJson({
      properties: info.properties,
      subscriptionSet: info.subscriptionSet,
      mqTable: new Map(info.mqTable),
      statusTable: {},
      jstack: '',
    }),
    'utf8',
  );
}
