/**
 * JSON bodies of the broker's admin query answers, with upstream's field names, written as fastjson
 * writes them (fields in alphabetical order, MessageQueue-keyed maps with object keys, integer-keyed
 * maps with bare keys):
 *   QUERY_CONSUME_TIME_SPAN  {"consumeTimeSpanSet":[{"consumeTimeStamp":..,"consumeTimeStampStr":"..",
 *                             "delayTime":..,"maxTimeStamp":..,"maxTimeStampStr":"..",
 *                             "messageQueue":{"brokerName":"b","queueId":0,"topic":"T"},
 *                             "minTimeStamp":..,"minTimeStampStr":".."}]}
 *   QUERY_CORRECTION_OFFSET  {"correctionOffsets":{0:12,1:9223372036854775807}}
 *   VIEW_BROKER_STATS_DATA   {"statsDay":{"avgpt":..,"sum":..,"tps":..},"statsHour":{..},"statsMinute":{..}}
 *   GET_BROKER_CONSUME_STATS {"brokerAddr":"ip:port","consumeStatsList":[{"group":[ConsumeStats..]}],
 *                             "totalDiff":..}
 *   QUERY_CONSUME_QUEUE      {"filterData":"..","maxQueueIndex":..,"minQueueIndex":..,
 *                             "queueData":[{"eval":false,"physicOffset":..,"physicSize":..,"tagsCode":..}],
 *                             "subscriptionData":{..}}
 *   GET_ALL_PRODUCER_INFO    {"data":{"group":[{"clientId":"..","language":"JAVA",
 *                             "lastUpdateTimestamp":..,"remoteIP":"/ip:port","version":..}]}}
 */
import { mapEntries, objectKeyedEntries } from './fastjson.js';
import {
  jsonBody,
  messageQueueFromJson,
  parseBody,
  type ConsumeStats,
  type MessageQueue,
  type OffsetWrapper,
} from './admin-bodies.js';
import { subscriptionDataFromJson, type SubscriptionData } from './heartbeat.js';

function num(v: unknown): number {
  const n = Number(v ?? 0);
  return Number.isNaN(n) ? 0 : n;
}

function obj(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

// QUERY_CONSUME_TIME_SPAN
export interface QueueTimeSpan {
  messageQueue: MessageQueue;
  minTimeStamp: number;
  maxTimeStamp: number;
  consumeTimeStamp: number;
  delayTime: number;
}

/** Java's `yyyy-MM-dd#HH:mm:ss:SSS` in local time (upstream UtilAll.YYYY_MM_DD_HH_MM_SS_SSS). */
export function formatJavaTimestamp(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return (
    `${p(d.getFullYear(), 4)}-${p(d.getMonth() + 1)}-${p(d.getDate())}` +
    `#${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}:${p(d.getMilliseconds(), 3)}`
  );
}

export function encodeQueryConsumeTimeSpanBody(spans: QueueTimeSpan[]): Buffer {
  // Upstream's QueueTimeSpan also has *Str getters, which fastjson writes as fields.
  return jsonBody({
    consumeTimeSpanSet: spans.map((s) => ({
      ...s,
      minTimeStampStr: formatJavaTimestamp(s.minTimeStamp),
      maxTimeStampStr: formatJavaTimestamp(s.maxTimeStamp),
      consumeTimeStampStr: formatJavaTimestamp(s.consumeTimeStamp),
    })),
  });
}

export function decodeQueryConsumeTimeSpanBody(body: Buffer | undefined): QueueTimeSpan[] {
  const o = parseBody(body, 'QueryConsumeTimeSpanBody');
  return list(o.consumeTimeSpanSet).map((raw) => {
    const r = obj(raw);
    return {
      messageQueue: messageQueueFromJson(r.messageQueue),
      minTimeStamp: num(r.minTimeStamp),
      maxTimeStamp: num(r.maxTimeStamp),
      consumeTimeStamp: num(r.consumeTimeStamp),
      delayTime: num(r.delayTime),
    };
  });
}

// QUERY_CORRECTION_OFFSET
/** Java's Long.MAX_VALUE, which upstream answers for a queue the compare group is behind on. */
export const LONG_MAX_VALUE = 9223372036854775807n;

/** Offsets by queue id; LONG_MAX_VALUE (a bigint) where no correction applies. */
export function encodeQueryCorrectionOffsetBody(offsets: Map<number, number | bigint>): Buffer {
  return jsonBody({ correctionOffsets: offsets });
}

/** Offsets by queue id; Long.MAX_VALUE reads back as a number >= Number.MAX_SAFE_INTEGER. */
export function decodeQueryCorrectionOffsetBody(body: Buffer | undefined): Map<number, number> {
  const o = parseBody(body, 'QueryCorrectionOffsetBody');
  return new Map(mapEntries(o.correctionOffsets).map(([k, v]) => [Number(k), num(v)]));
}

// VIEW_BROKER_STATS_DATA
export interface BrokerStatsItem {
  sum: number;
  tps: number;
  avgpt: number;
}

export interface BrokerStatsDataBody {
  statsMinute: BrokerStatsItem;
  statsHour: BrokerStatsItem;
  statsDay: BrokerStatsItem;
}

export function encodeBrokerStatsData(data: BrokerStatsDataBody): Buffer {
  return jsonBody(data);
}

export function decodeBrokerStatsData(body: Buffer | undefined): BrokerStatsDataBody {
  const o = parseBody(body, 'BrokerStatsData');
  const item = (raw: unknown): BrokerStatsItem => {
    const r = obj(raw);
    return { sum: num(r.sum), tps: num(r.tps), avgpt: num(r.avgpt) };
  };
  return { statsMinute: item(o.statsMinute), statsHour: item(o.statsHour), statsDay: item(o.statsDay) };
}

// GET_BROKER_CONSUME_STATS
export interface ConsumeStatsList {
  /** One single-entry map per subscription group: group -> one ConsumeStats per topic. */
  consumeStatsList: Map<string, ConsumeStats[]>[];
  brokerAddr: string;
  totalDiff: number;
}

export function encodeConsumeStatsList(l: ConsumeStatsList): Buffer {
  return jsonBody({
    brokerAddr: l.brokerAddr,
    totalDiff: l.totalDiff,
    consumeStatsList: l.consumeStatsList.map(
      (m) =>
        new Map(
          [...m].map(([group, stats]) => [
            group,
            stats.map((s) => ({ consumeTps: s.consumeTps, offsetTable: new Map(s.offsetTable) })),
          ]),
        ),
    ),
  });
}

function consumeStatsFromJson(raw: unknown): ConsumeStats {
  const r = obj(raw);
  return {
    consumeTps: num(r.consumeTps),
    offsetTable: objectKeyedEntries(r.offsetTable).map(([k, v]): [MessageQueue, OffsetWrapper] => {
      const w = obj(v);
      return [
        messageQueueFromJson(k),
        {
          brokerOffset: num(w.brokerOffset),
          consumerOffset: num(w.consumerOffset),
          lastTimestamp: num(w.lastTimestamp),
        },
      ];
    }),
  };
}

export function decodeConsumeStatsList(body: Buffer | undefined): ConsumeStatsList {
  const o = parseBody(body, 'ConsumeStatsList');
  return {
    brokerAddr: String(o.brokerAddr ?? ''),
    totalDiff: num(o.totalDiff),
    consumeStatsList: list(o.consumeStatsList).map(
      (m) => new Map(mapEntries(m).map(([group, stats]) => [group, list(stats).map(consumeStatsFromJson)])),
    ),
  };
}

// QUERY_CONSUME_QUEUE
export interface ConsumeQueueData {
  physicOffset: number;
  physicSize: number;
  tagsCode: number;
  extendDataJson?: string;
  bitMap?: string;
  eval: boolean;
  msg?: string;
}

export interface QueryConsumeQueueResponseBody {
  subscriptionData?: SubscriptionData;
  filterData?: string;
  queueData?: ConsumeQueueData[];
  maxQueueIndex: number;
  minQueueIndex: number;
}

export function encodeQueryConsumeQueueResponseBody(b: QueryConsumeQueueResponseBody): Buffer {
  return jsonBody(b);
}

export function decodeQueryConsumeQueueResponseBody(body: Buffer | undefined): QueryConsumeQueueResponseBody {
  const o = parseBody(body, 'QueryConsumeQueueResponseBody');
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  return {
    subscriptionData: o.subscriptionData ? subscriptionDataFromJson(o.subscriptionData) : undefined,
    filterData: str(o.filterData),
    queueData: Array.isArray(o.queueData)
      ? o.queueData.map((raw) => {
          const r = obj(raw);
          return {
            physicOffset: num(r.physicOffset),
            physicSize: num(r.physicSize),
            tagsCode: num(r.tagsCode),
            extendDataJson: str(r.extendDataJson),
            bitMap: str(r.bitMap),
            eval: r.eval === true,
            msg: str(r.msg),
          };
        })
      : undefined,
    maxQueueIndex: num(o.maxQueueIndex),
    minQueueIndex: num(o.minQueueIndex),
  };
}

// GET_ALL_PRODUCER_INFO
export interface ProducerInfo {
  clientId: string;
  /** The connection's address as Java's SocketAddress.toString writes it: `/ip:port`. */
  remoteIP: string;
  language: string;
  version: number;
  lastUpdateTimestamp: number;
}

export function encodeProducerTableInfo(data: Map<string, ProducerInfo[]>): Buffer {
  return jsonBody({ data });
}

export function decodeProducerTableInfo(body: Buffer | undefined): Map<string, ProducerInfo[]> {
  const o = parseBody(body, 'ProducerTableInfo');
  return new Map(
    mapEntries(o.data).map(([group, infos]) => [
      group,
      list(infos).map((raw) => {
        const r = obj(raw);
        return {
          clientId: String(r.clientId ?? ''),
          remoteIP: String(r.remoteIP ?? ''),
          language: String(r.language ?? 'JAVA'),
          version: num(r.version),
          lastUpdateTimestamp: num(r.lastUpdateTimestamp),
        };
      }),
    ]),
  );
}
