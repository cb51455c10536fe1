/**
 * Inspection and runtime config: GET_BROKER_RUNTIME_INFO (28), GET_TOPIC_STATS_INFO (202),
 * GET_CONSUMER_CONNECTION_LIST (203), GET_PRODUCER_CONNECTION_LIST (204), GET_CONSUME_STATS
 * (208), QUERY_TOPIC_CONSUME_BY_WHO (300), GET_BROKER_CONFIG (26), UPDATE_BROKER_CONFIG (25).
 *
 * UPDATE_BROKER_CONFIG changes only keys on an explicit allowlist of runtime switches: no path,
 * no address, nothing that reaches a command line (CVE-2023-33246 came from that door). Any other
 * key is refused with NO_PERMISSION naming it, and nothing of that request is applied.
 */
import { errorMessage } from '../../common/errors.js';
import { formatProperties, parseProperties, propertiesToMap } from '../../common/config/properties-file.js';
import type { RequestHandler } from '../../remoting/dispatcher.js';
import { ResponseCode } from '../../protocol/response-code.js';
import {
  ConsumerGroupRequestHeader,
  GetConsumeStatsRequestHeader,
  GetProducerConnectionListRequestHeader,
  QueryTopicConsumeByWhoRequestHeader,
  TopicRequestHeader,
} from '../../protocol/broker-headers.js';
import { decodeHeader, failure, isErrorResponse, success } from '../../protocol/request-helpers.js';
import { encodeKVTable } from '../../protocol/route-data.js';
import {
  encodeConsumeStats,
  encodeConsumerConnection,
  encodeGroupList,
  encodeTopicStatsTable,
  jsonBody,
  type MessageQueue,
  type OffsetWrapper,
  type TopicOffset,
} from '../../protocol/admin-bodies.js';
import type { BrokerController } from '../broker-controller.js';
import { countsTopic, queueOffsetTable } from '../consume-stats.js';

/** Broker keys a remote admin may change at runtime; everything else is refused. */
export const REMOTELY_UPDATABLE_KEYS: ReadonlySet<string> = new Set([
  'brokerPermission',
  'autoCreateTopicEnable',
  'autoCreateSubscriptionGroup',
  'defaultTopicQueueNums',
  'longPollingEnable',
  'shortPollingTimeMills',
  'notifyConsumerIdsChangedEnable',
  'slaveReadEnable',
  'rejectTransactionMessage',
  'transactionTimeOut',
  'transactionCheckMax',
  'transactionCheckInterval',
  'traceOn',
  'sendThreadPoolQueueCapacity',
  'registerNameServerPeriod',
  'flushConsumerOffsetInterval',
  'regionId',
]);

export function adminInspectHandlers(
  b: BrokerController,
): Record<
  | 'runtimeInfo'
  | 'topicStats'
  | 'consumerConnections'
  | 'producerConnections'
  | 'consumeStats'
  | 'consumeByWho'
  | 'getConfig'
  | 'updateConfig',
  RequestHandler
> {
  return {
    runtimeInfo: (request) =>
      success(request, { body: encodeKVTable(new Map(Object.entries(b.runtimeInfo()))) }),

    topicStats: async (request) => {
      const h = decodeHeader(request, TopicRequestHeader);
      if (isErrorResponse(h)) return h;
      const tc = b.topics.select(h.topic);
      if (!tc) return failure(request, ResponseCode.TOPIC_NOT_EXIST, `topic[${h.topic}] not exist`);
      const table: [MessageQueue, TopicOffset][] = [];
      for (let q = 0; q < tc.writeQueueNums; q++) {
        const minOffset = Math.max(0, b.store.getMinOffsetInQueue(h.topic, q));
        const maxOffset = Math.max(0, b.store.getMaxOffsetInQueue(h.topic, q));
        const lastUpdateTimestamp =
          maxOffset > 0 ? await b.store.getMessageStoreTimeStamp(h.topic, q, maxOffset - 1) : 0;
        table.push([
          { topic: h.topic, brokerName: b.config.brokerName, queueId: q },
          { minOffset, maxOffset, lastUpdateTimestamp },
        ]);
      }
      return success(request, { body: encodeTopicStatsTable(table) });
    },

    consumerConnections: (request) => {
      const h = decodeHeader(request, ConsumerGroupRequestHeader);
      if (isErrorResponse(h)) return h;
      const g = b.consumers.get(h.consumerGroup);
      if (!g)
        return failure(
          request,
          ResponseCode.CONSUMER_NOT_ONLINE,
          `the consumer group[${h.consumerGroup}] not online`,
        );
      return success(request, {
        body: encodeConsumerConnection({
          connectionSet: [...g.channels.values()].map((c) => ({
            clientId: c.clientId,
            clientAddr: c.channel.remoteAddress,
            language: c.language,
            version: c.version,
          })),
          subscriptionTable: new Map(g.subscriptions),
          consumeType: g.consumeType,
          messageModel: g.messageModel,
          consumeFromWhere: g.consumeFromWhere,
        }),
      });
    },

    producerConnections: (request) => {
      const h = decodeHeader(request, GetProducerConnectionListRequestHeader);
      if (isErrorResponse(h)) return h;
      const conns = b.producers.connections(h.producerGroup);
      if (conns.length === 0)
        return failure(
          request,
          ResponseCode.SYSTEM_ERROR,
          `the producer group[${h.producerGroup}] not exist`,
        );
      return success(request, {
        body: jsonBody({
          connectionSet: conns.map((c) => ({
            clientId: c.clientId,
            clientAddr: c.channel.remoteAddress,
            language: c.language,
            version: c.version,
          })),
        }),
      });
    },

    consumeStats: async (request) => {
      const h = decodeHeader(request, GetConsumeStatsRequestHeader);
      if (isErrorResponse(h)) return h;
      const topics = h.topic ? [h.topic] : [...b.offsets.topicsOfGroup(h.consumerGroup)];
      const table: [MessageQueue, OffsetWrapper][] = [];
      let consumeTps = 0;
      for (const topic of topics) {
        const tc = b.topics.select(topic);
        if (!tc || !countsTopic(b, h.consumerGroup, topic)) continue;
        table.push(...(await queueOffsetTable(b, h.consumerGroup, topic, tc.readQueueNums)));
        consumeTps += b.stats.consumeTps(h.consumerGroup, topic);
      }
      return success(request, { body: encodeConsumeStats({ offsetTable: table, consumeTps }) });
    },

    consumeByWho: (request) => {
      const h = decodeHeader(request, QueryTopicConsumeByWhoRequestHeader);
      if (isErrorResponse(h)) return h;
      const groups = new Set([...b.consumers.groupsOfTopic(h.topic), ...b.offsets.groupsOfTopic(h.topic)]);
      return success(request, { body: encodeGroupList(groups) });
    },

    getConfig: (request) =>
      success(request, { body: Buffer.from(formatProperties(b.configEntries()), 'utf8') }),

    updateConfig: (request, ctx) => {
      const props = propertiesToMap(parseProperties(request.body?.toString('utf8') ?? ''));
      for (const key of props.keys()) {
        if (!REMOTELY_UPDATABLE_KEYS.has(key)) {
          b.log.warn(
            { key, peer: ctx.channel.remoteAddress },
            'UPDATE_BROKER_CONFIG refused a key outside the allowlist',
          );
          return failure(
            request,
            ResponseCode.NO_PERMISSION,
            `Can not update config key '${key}' remotely: not in the allowlist of runtime switches`,
          );
        }
      }
      try {
        b.updateConfig(props, `UPDATE_BROKER_CONFIG from ${ctx.channel.remoteAddress}`);
      } catch (err) {
        return failure(request, ResponseCode.SYSTEM_ERROR, errorMessage(err));
      }
      return success(request);
    },
  };
}
