/**
 * Admin queries over offsets and stats: QUERY_CONSUME_TIME_SPAN (303), QUERY_CORRECTION_OFFSET
 * (308), CLONE_GROUP_OFFSET (314), VIEW_BROKER_STATS_DATA (315), GET_BROKER_CONSUME_STATS (317),
 * GET_ALL_PRODUCER_INFO (328). QUERY_CONSUME_QUEUE (321) is in admin-consume-queue-processor.ts.
 * Answers follow upstream's AdminBrokerProcessor: same codes, remarks and body fields.
 */
import type { RequestHandler } from '../../remoting/dispatcher.js';
import { ResponseCode } from '../../protocol/response-code.js';
import {
  CloneGroupOffsetRequestHeader,
  GetConsumeStatsInBrokerHeader,
  QueryConsumeTimeSpanRequestHeader,
  QueryCorrectionOffsetHeader,
  ViewBrokerStatsDataRequestHeader,
} from '../../protocol/broker-headers.js';
import { decodeHeader, failure, isErrorResponse, success } from '../../protocol/request-helpers.js';
import type { ConsumeStats } from '../../protocol/admin-bodies.js';
import {
  LONG_MAX_VALUE,
  encodeBrokerStatsData,
  encodeConsumeStatsList,
  encodeProducerTableInfo,
  encodeQueryConsumeTimeSpanBody,
  encodeQueryCorrectionOffsetBody,
  type ProducerInfo,
  type QueueTimeSpan,
} from '../../protocol/admin-query-bodies.js';
import { countsTopic, queueOffsetTable } from '../consume-stats.js';
import type { BrokerController } from '../broker-controller.js';

type Name =
  | 'consumeTimeSpan'
  | 'correctionOffset'
  | 'cloneGroupOffset'
  | 'viewStats'
  | 'brokerConsumeStats'
  | 'allProducerInfo';

export function adminQueryHandlers(b: BrokerController): Record<Name, RequestHandler> {
  return {
    consumeTimeSpan: async (request) => {
      const h = decodeHeader(request, QueryConsumeTimeSpanRequestHeader);
      if (isErrorResponse(h)) return h;
      const tc = b.topics.select(h.topic);
      if (!tc) return failure(request, ResponseCode.TOPIC_NOT_EXIST, `topic[${h.topic}] not exist`);
      const spans: QueueTimeSpan[] = [];
      for (let q = 0; q < tc.writeQueueNums; q++) {
        spans.push(await queueTimeSpan(b, h.topic, h.group, q));
      }
      return success(request, { body: encodeQueryConsumeTimeSpanBody(spans) });
    },

    correctionOffset: (request) => {
      const h = decodeHeader(request, QueryCorrectionOffsetHeader);
      if (isErrorResponse(h)) return h;
      const correction = minOffsetInAllGroups(b, h.topic, h.filterGroups);
      // Where the compare group is behind the others' minimum, nothing needs correcting there.
      for (const [q, offset] of b.offsets.queryAll(h.compareGroup, h.topic) ?? []) {
        const min = correction.get(q);
        if (typeof min === 'number') correction.set(q, min > offset ? LONG_MAX_VALUE : min);
      }
      return success(request, { body: encodeQueryCorrectionOffsetBody(correction) });
    },

    cloneGroupOffset: async (request) => {
      const h = decodeHeader(request, CloneGroupOffsetRequestHeader);
      if (isErrorResponse(h)) return h;
      const topics = !h.topic?.trim() ? [...b.offsets.topicsOfGroup(h.srcGroup)] : [h.topic];
      let cloned = 0;
      for (const topic of topics) {
        if (!b.topics.select(topic)) {
          b.log.warn({ topic }, 'cloneGroupOffset: topic config not exist');
          continue;
        }
        // An online source group that does not subscribe to the topic has stale offsets there.
        if (!h.offline && !countsTopic(b, h.srcGroup, topic)) {
          b.log.warn(
            { group: h.srcGroup, topic },
            'cloneGroupOffset: the group does not subscribe the topic',
          );
          continue;
        }
        for (const [q, offset] of b.offsets.queryAll(h.srcGroup, topic) ?? []) {
          b.offsets.commit(h.destGroup, topic, q, offset);
          cloned++;
        }
      }
      if (cloned > 0) await b.offsets.persist();
      return success(request);
    },

    viewStats: (request) => {
      const h = decodeHeader(request, ViewBrokerStatsDataRequestHeader);
      if (isErrorResponse(h)) return h;
      const data = b.stats.view(h.statsName, h.statsKey, b.config.brokerClusterName);
      if (!data) {
        return failure(
          request,
          ResponseCode.SYSTEM_ERROR,
          `The stats <${h.statsName}> <${h.statsKey}> not exist`,
        );
      }
      return success(request, { body: encodeBrokerStatsData(data) });
    },

    brokerConsumeStats: async (request) => {
      const h = decodeHeader(request, GetConsumeStatsInBrokerHeader);
      if (isErrorResponse(h)) return h;
      const list: Map<string, ConsumeStats[]>[] = [];
      let totalDiff = 0;
      // Every subscription group, even one without offsets (an empty list), as upstream.
      for (const group of b.groups.all().keys()) {
        const perTopic: ConsumeStats[] = [];
        for (const topic of b.offsets.topicsOfGroup(group)) {
          const tc = b.topics.select(topic);
          if (!tc || (h.isOrder && !tc.order) || !countsTopic(b, group, topic)) continue;
          const offsetTable = await queueOffsetTable(b, group, topic, tc.writeQueueNums);
          for (const [, w] of offsetTable) totalDiff += w.brokerOffset - w.consumerOffset;
          perTopic.push({ offsetTable, consumeTps: b.stats.consumeTps(group, topic) });
        }
        list.push(new Map([[group, perTopic]]));
      }
      return success(request, {
        body: encodeConsumeStatsList({ consumeStatsList: list, brokerAddr: b.brokerAddr, totalDiff }),
      });
    },

    allProducerInfo: (request) => {
      const table = new Map<string, ProducerInfo[]>();
      for (const group of b.producers.groupNames()) {
        table.set(
          group,
          b.producers.connections(group).map((c) => ({
            clientId: c.clientId,
            remoteIP: `/${c.channel.remoteAddress}`,
            language: c.language,
            version: c.version,
            lastUpdateTimestamp: c.lastUpdate,
          })),
        );
      }
      return success(request, { body: encodeProducerTableInfo(table) });
    },
  };
}

/**
 * Store times of a queue's first and last message and of the last one `group` consumed (the first
 * when it consumed none), and how long the next unconsumed message has waited.
 */
async function queueTimeSpan(
  b: BrokerController,
  topic: string,
  group: string,
  q: number,
): Promise<QueueTimeSpan> {
  const store = b.store;
  const minTimeStamp = await store.getEarliestMessageTime(topic, q);
  const max = store.getMaxOffsetInQueue(topic, q);
  const maxTimeStamp = await store.getMessageStoreTimeStamp(topic, q, max - 1);
  const consumerOffset = b.offsets.query(group, topic, q);
  const consumeTimeStamp =
    consumerOffset > 0 ? await store.getMessageStoreTimeStamp(topic, q, consumerOffset - 1) : minTimeStamp;
  let delayTime = 0;
  // Upstream looks the next message up even for a group with no offset (-1): the lookup fails (-1)
  // and the delay reads as now + 1. Kept so tools comparing the two brokers see the same figure.
  if (consumerOffset < max) {
    delayTime = Date.now() - (await store.getMessageStoreTimeStamp(topic, q, consumerOffset));
  }
  return {
    messageQueue: { topic, brokerName: b.config.brokerName, queueId: q },
    minTimeStamp,
    maxTimeStamp,
    consumeTimeStamp,
    delayTime,
  };
}

/**
 * Per queue of `topic`, the smallest committed offset among the groups not named in `filterGroups`
 * (comma-separated), ignoring offsets below the queue's minimum (upstream queryMinOffsetInAllGroup;
 * unlike upstream, the filtered groups' offsets are left in the table).
 */
function minOffsetInAllGroups(
  b: BrokerController,
  topic: string,
  filterGroups: string | undefined,
): Map<number, number | bigint> {
  const excluded = new Set(filterGroups?.trim() ? filterGroups.split(',') : []);
  const out = new Map<number, number | bigint>();
  for (const group of b.offsets.groupsOfTopic(topic)) {
    if (excluded.has(group)) continue;
    for (const [q, offset] of b.offsets.queryAll(group, topic) ?? []) {
      if (offset < b.store.getMinOffsetInQueue(topic, q)) continue;
      const cur = out.get(q);
      out.set(q, typeof cur === 'number' ? Math.min(cur, offset) : offset);
    }
  }
  return out;
}
