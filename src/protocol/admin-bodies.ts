/**
 * JSON bodies of the broker's client and admin requests. Maps keyed by MessageQueue are written
 * the way fastjson writes them (object keys), which Java admin tools and the dashboard read.
 */
import { RmqError, ErrorCode, errorMessage } from '../common/errors.js';
import { mapEntries, objectKeyedEntries, parseJson, writeJson } from './fastjson.js';
import {
  subscriptionDataFromJson,
  type ConsumeFromWhere,
  type ConsumeType,
  type MessageModel,
  type SubscriptionData,
} from './heartbeat.js';
import { dataVersionFromJson, type DataVersion } from './topic-config.js';

export interface MessageQueue {
  topic: string;
  brokerName: string;
  queueId: number;
}

export function mqKey(mq: MessageQueue): string {
  return `${mq.topic}@${mq.brokerName}@${mq.queueId}`;
}

export function messageQueueFromJson(raw: unknown): MessageQueue {
  const o = (raw ?? {}) as Record<string, unknown>;
  return {
    topic: String(o.topic ?? ''),
    brokerName: String(o.brokerName ?? ''),
    queueId: Number(o.queueId ?? 0),
  };
}

/** Ordering used by upstream for queues: topic, then broker name, then queue id. */
export function compareMessageQueue(a: MessageQueue, b: MessageQueue): number {
  if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1;
  if (a.brokerName !== b.brokerName) return a.brokerName < b.brokerName ? -1 : 1;
  return a.queueId - b.queueId;
}

export function parseBody(body: Buffer | undefined, what: string): Record<string, unknown> {
  if (!body || body.length === 0) throw new RmqError(ErrorCode.ILLEGAL_ARGUMENT, `${what}: empty body`);
  let v: unknown;
  try {
    v = parseJson(body.toString('utf8'));
  } catch (err) {
    throw new RmqError(ErrorCode.ILLEGAL_ARGUMENT, `${what}: ${errorMessage(err)}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v) || v instanceof Map) {
    throw new RmqError(ErrorCode.ILLEGAL_ARGUMENT, `${what}: not a JSON object`);
  }
  return v as Record<string, unknown>;
}

export function jsonBody(value: unknown): Buffer {
  return Buffer.from(writeJson(value), 'utf8');
}

// LOCK_BATCH_MQ / UNLOCK_BATCH_MQ
export interface LockBatchRequest {
  consumerGroup: string;
  clientId: string;
  mqSet: MessageQueue[];
}

export function decodeLockBatchRequest(body: Buffer | undefined): LockBatchRequest {
  const o = parseBody(body, 'LockBatchRequestBody');
  return {
    consumerGroup: String(o.consumerGroup ?? ''),
    clientId: String(o.clientId ?? ''),
    mqSet: (Array.isArray(o.mqSet) ? o.mqSet : []).map(messageQueueFromJson),
  };
}

export function decodeLockBatchResponse(body: Buffer | undefined): MessageQueue[] {
  const o = parseBody(body, 'LockBatchResponseBody');
  return (Array.isArray(o.lockOKMQSet) ? o.lockOKMQSet : []).map(messageQueueFromJson);
}

// GET_CONSUMER_LIST_BY_GROUP
export function decodeConsumerIdList(body: Buffer | undefined): string[] {
  const o = parseBody(body, 'GetConsumerListByGroupResponseBody');
  return (Array.isArray(o.consumerIdList) ? o.consumerIdList : []).map(String);
}

// GET_TOPIC_STATS_INFO
export interface TopicOffset {
  minOffset: number;
  maxOffset: number;
  lastUpdateTimestamp: number;
}

export function encodeTopicStatsTable(table: [MessageQueue, TopicOffset][]): Buffer {
  return jsonBody({ offsetTable: new Map(table) });
}

export function decodeTopicStatsTable(body: Buffer | undefined): [MessageQueue, TopicOffset][] {
  const o = parseBody(body, 'TopicStatsTable');
  return objectKeyedEntries(o.offsetTable).map(([k, v]) => {
    const r = (v ?? {}) as Record<string, unknown>;
    return [
      messageQueueFromJson(k),
      {
        minOffset: Number(r.minOffset ?? 0),
        maxOffset: Number(r.maxOffset ?? 0),
        lastUpdateTimestamp: Number(r.lastUpdateTimestamp ?? 0),
      },
    ];
  });
}

// GET_CONSUME_STATS
export interface OffsetWrapper {
  brokerOffset: number;
  consumerOffset: number;
  lastTimestamp: number;
}

export interface ConsumeStats {
  offsetTable: [MessageQueue, OffsetWrapper][];
  consumeTps: number;
}

export function encodeConsumeStats(stats: ConsumeStats): Buffer {
  return jsonBody({ offsetTable: new Map(stats.offsetTable), consumeTps: stats.consumeTps });
}

export function decodeConsumeStats(body: Buffer | undefined): ConsumeStats {
  const o = parseBody(body, 'ConsumeStats');
  return {
    consumeTps: Number(o.consumeTps ?? 0),
    offsetTable: objectKeyedEntries(o.offsetTable).map(([k, v]) => {
      const r = (v ?? {}) as Record<string, unknown>;
      return [
        messageQueueFromJson(k),
        {
          brokerOffset: Number(r.brokerOffset ?? 0),
          consumerOffset: Number(r.consumerOffset ?? 0),
          lastTimestamp: Number(r.lastTimestamp ?? 0),
        },
      ];
    }),
  };
}

// GET_CONSUMER_CONNECTION_LIST / GET_PRODUCER_CONNECTION_LIST
export interface Connection {
  clientId: string;
  clientAddr: string;
  language: string;
  version: number;
}

export interface ConsumerConnection {
  connectionSet: Connection[];
  subscriptionTable: Map<string, SubscriptionData>;
  consumeType: ConsumeType;
  messageModel: MessageModel;
  consumeFromWhere: ConsumeFromWhere;
}

function connectionFromJson(raw: unknown): Connection {
  const o = (raw ?? {}) as Record<string, unknown>;
  return {
    clientId: String(o.clientId ?? ''),
    clientAddr: String(o.clientAddr ?? ''),
    language: String(o.language ?? 'JAVA'),
    version: Number(o.version ?? 0),
  };
}

export function encodeConsumerConnection(c: ConsumerConnection): Buffer {
  return jsonBody({ ...c, subscriptionTable: Object.fromEntries(c.subscriptionTable) });
}

export function decodeConsumerConnection(body: Buffer | undefined): ConsumerConnection {
  const o = parseBody(body, 'ConsumerConnection');
  return {
    connectionSet: (Array.isArray(o.connectionSet) ? o.connectionSet : []).map(connectionFromJson),
    subscriptionTable: new Map(
      mapEntries(o.subscriptionTable).map(([k, v]) => [k, subscriptionDataFromJson(v)]),
    ),
    consumeType: String(o.consumeType ?? 'CONSUME_PASSIVELY') as ConsumeType,
    messageModel: String(o.messageModel ?? 'CLUSTERING') as MessageModel,
    consumeFromWhere: String(o.consumeFromWhere ?? 'CONSUME_FROM_LAST_OFFSET') as ConsumeFromWhere,
  };
}

export function decodeProducerConnection(body: Buffer | undefined): Connection[] {
  const o = parseBody(body, 'ProducerConnection');
  return (Array.isArray(o.connectionSet) ? o.connectionSet : []).map(connectionFromJson);
}

// Subscription groups (UPDATE_AND_CREATE_SUBSCRIPTIONGROUP body, GET_ALL_SUBSCRIPTIONGROUP_CONFIG)
export interface SubscriptionGroupConfig {
  groupName: string;
  consumeEnable: boolean;
  consumeFromMinEnable: boolean;
  consumeBroadcastEnable: boolean;
  retryQueueNums: number;
  retryMaxTimes: number;
  brokerId: number;
  whichBrokerWhenConsumeSlowly: number;
  notifyConsumerIdsChangedEnable: boolean;
}

export function newSubscriptionGroupConfig(
  groupName: string,
  init: Partial<SubscriptionGroupConfig> = {},
): SubscriptionGroupConfig {
  return {
    groupName,
    consumeEnable: true,
    consumeFromMinEnable: true,
    consumeBroadcastEnable: true,
    retryQueueNums: 1,
    retryMaxTimes: 16,
    brokerId: 0,
    whichBrokerWhenConsumeSlowly: 1,
    notifyConsumerIdsChangedEnable: true,
    ...init,
  };
}

export function subscriptionGroupConfigFromJson(raw: unknown, name = ''): SubscriptionGroupConfig {
  const o = (raw ?? {}) as Record<string, unknown>;
  const d = newSubscriptionGroupConfig(String(o.groupName ?? name));
  const bool = (v: unknown, def: boolean): boolean =>
    typeof v === 'boolean' ? v : v === 'true' ? true : v === 'false' ? false : def;
  const num = (v: unknown, def: number): number =>
    v === undefined || v === null || Number.isNaN(Number(v)) ? def : Number(v);
  return {
    groupName: d.groupName,
    consumeEnable: bool(o.consumeEnable, d.consumeEnable),
    consumeFromMinEnable: bool(o.consumeFromMinEnable, d.consumeFromMinEnable),
    consumeBroadcastEnable: bool(o.consumeBroadcastEnable, d.consumeBroadcastEnable),
    retryQueueNums: num(o.retryQueueNums, d.retryQueueNums),
    retryMaxTimes: num(o.retryMaxTimes, d.retryMaxTimes),
    brokerId: num(o.brokerId, d.brokerId),
    whichBrokerWhenConsumeSlowly: num(o.whichBrokerWhenConsumeSlowly, d.whichBrokerWhenConsumeSlowly),
    notifyConsumerIdsChangedEnable: bool(o.notifyConsumerIdsChangedEnable, d.notifyConsumerIdsChangedEnable),
  };
}

export interface SubscriptionGroupWrapper {
  subscriptionGroupTable: Map<string, SubscriptionGroupConfig>;
  dataVersion: DataVersion;
}

export function encodeSubscriptionGroupWrapper(w: SubscriptionGroupWrapper): Buffer {
  return jsonBody({
    subscriptionGroupTable: Object.fromEntries(w.subscriptionGroupTable),
    dataVersion: w.dataVersion,
  });
}

export function decodeSubscriptionGroupWrapper(body: Buffer | undefined): SubscriptionGroupWrapper {
  const o = parseBody(body, 'SubscriptionGroupWrapper');
  return {
    subscriptionGroupTable: new Map(
      mapEntries(o.subscriptionGroupTable).map(([k, v]) => [k, subscriptionGroupConfigFromJson(v, k)]),
    ),
    dataVersion: dataVersionFromJson(o.dataVersion),
  };
}

// GET_ALL_CONSUMER_OFFSET body: {"offsetTable":{"topic@group":{0:10,1:3}}}
export function encodeConsumerOffsetTable(table: Map<string, Map<number, number>>, pretty = false): string {
  return writeJson({ offsetTable: table }, { pretty });
}

export function decodeConsumerOffsetTable(text: string): Map<string, Map<number, number>> {
  const o = parseJson(text) as Record<string, unknown>;
  const out = new Map<string, Map<number, number>>();
  for (const [key, queues] of mapEntries(o?.offsetTable)) {
    out.set(key, new Map(mapEntries(queues).map(([q, off]) => [Number(q), Number(off)])));
  }
  return out;
}

// GroupList (QUERY_TOPIC_CONSUME_BY_WHO)
export function encodeGroupList(groups: Iterable<string>): Buffer {
  return jsonBody({ groupList: [...groups] });
}

export function decodeGroupList(body: Buffer | undefined): string[] {
  const o = parseBody(body, 'GroupList');
  return (Array.isArray(o.groupList) ? o.groupList : []).map(String);
}

// ResetOffsetBody (RESET_CONSUMER_CLIENT_OFFSET, INVOKE_BROKER_TO_RESET_OFFSET reply)
export function encodeResetOffsetBody(offsets: [MessageQueue, number][]): Buffer {
  return jsonBody({ offsetTable: new Map(offsets) });
}

export function decodeResetOffsetBody(body: Buffer | undefined): [MessageQueue, number][] {
  const o = parseBody(body, 'ResetOffsetBody');
  return objectKeyedEntries(o.offsetTable).map(([k, v]) => [messageQueueFromJson(k), Number(v)]);
}
