/**
 * Admin calls to one broker or NameServer (upstream's MQClientAPIImpl admin half): topic and
 * group configuration, stats, connections, runtime info. The Admin client combines them across
 * brokers and NameServers.
 */
import { decodeRecords, type MessageExt as StoredMessage } from '../../common/message/message-record.js';
import { RequestCode } from '../../protocol/request-code.js';
import { ResponseCode } from '../../protocol/response-code.js';
import {
  ConsumerGroupRequestHeader,
  CreateTopicRequestHeader,
  DeleteSubscriptionGroupRequestHeader,
  GetConsumeStatsRequestHeader,
  QueryMessageRequestHeader,
  TopicRequestHeader,
  UNIQUE_MSG_QUERY_FLAG,
} from '../../protocol/broker-headers.js';
import { DeleteTopicFromNamesrvRequestHeader } from '../../protocol/namesrv-headers.js';
import {
  decodeClusterInfo,
  decodeKVTable,
  decodeTopicList,
  type ClusterInfo,
} from '../../protocol/route-data.js';
import type { TopicConfig } from '../../protocol/topic-config.js';
import {
  decodeConsumeStats,
  decodeConsumerConnection,
  decodeTopicStatsTable,
  jsonBody,
  type ConsumeStats,
  type ConsumerConnection,
  type MessageQueue,
  type SubscriptionGroupConfig,
  type TopicOffset,
} from '../../protocol/admin-bodies.js';
import type { MQClientAPI } from '../mq-client-api.js';

export class MQAdminAPI {
  constructor(private readonly api: MQClientAPI) {}

  async createTopic(addr: string, tc: TopicConfig, defaultTopic: string): Promise<void> {
    await this.api.call(
      addr,
      RequestCode.UPDATE_AND_CREATE_TOPIC,
      { what: 'create topic', topic: tc.topicName },
      {
        extFields: CreateTopicRequestHeader.encode({
          topic: tc.topicName,
          defaultTopic,
          readQueueNums: tc.readQueueNums,
          writeQueueNums: tc.writeQueueNums,
          perm: tc.perm,
          topicFilterType: tc.topicFilterType,
          topicSysFlag: tc.topicSysFlag,
          order: tc.order,
        }),
      },
    );
  }

  /**
   * QUERY_MESSAGE: messages of `topic` indexed under `key` (a KEYS word, or with `uniqKey` a
   * UNIQ_KEY) stored in [begin, end]; none found is an empty list.
   */
  async queryMessage(
    addr: string,
    q: { topic: string; key: string; maxNum: number; begin: number; end: number; uniqKey: boolean },
  ): Promise<StoredMessage[]> {
    const extFields = QueryMessageRequestHeader.encode({
      topic: q.topic,
      key: q.key,
      maxNum: q.maxNum,
      beginTimestamp: q.begin,
      endTimestamp: q.end,
    });
    if (q.uniqKey) extFields[UNIQUE_MSG_QUERY_FLAG] = 'true';
    const response = await this.api.call(
      addr,
      RequestCode.QUERY_MESSAGE,
      { what: 'query message', topic: q.topic },
      { extFields },
      undefined,
      [ResponseCode.SUCCESS, ResponseCode.QUERY_NOT_FOUND],
    );
    return response.code === ResponseCode.SUCCESS && response.body ? decodeRecords(response.body) : [];
  }

  async deleteTopicInBroker(addr: string, topic: string): Promise<void> {
    await this.api.call(
      addr,
      RequestCode.DELETE_TOPIC_IN_BROKER,
      { what: 'delete topic in broker', topic },
      { extFields: TopicRequestHeader.encode({ topic }) },
    );
  }

  async deleteTopicInNamesrv(addr: string, topic: string, clusterName?: string): Promise<void> {
    await this.api.call(
      addr,
      RequestCode.DELETE_TOPIC_IN_NAMESRV,
      { what: 'delete topic in NameServer', topic },
      { extFields: DeleteTopicFromNamesrvRequestHeader.encode({ topic, clusterName }) },
    );
  }

  async getBrokerClusterInfo(): Promise<ClusterInfo> {
    const response = await this.api.callNamesrv(RequestCode.GET_BROKER_CLUSTER_INFO, {
      what: 'get cluster info',
    });
    return decodeClusterInfo(response.body);
  }

  async getAllTopicList(): Promise<string[]> {
    const response = await this.api.callNamesrv(RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER, {
      what: 'get topic list',
    });
    return decodeTopicList(response.body).topicList;
  }

  async getTopicStatsInfo(addr: string, topic: string): Promise<[MessageQueue, TopicOffset][]> {
    const response = await this.api.call(
      addr,
      RequestCode.GET_TOPIC_STATS_INFO,
      { what: 'get topic stats', topic },
      { extFields: TopicRequestHeader.encode({ topic }) },
    );
    return decodeTopicStatsTable(response.body);
  }

  async getConsumeStats(addr: string, group: string, topic?: string): Promise<ConsumeStats> {
    const response = await this.api.call(
      addr,
      RequestCode.GET_CONSUME_STATS,
      { what: 'get consume stats', group, topic },
      { extFields: GetConsumeStatsRequestHeader.encode({ consumerGroup: group, topic }) },
    );
    return decodeConsumeStats(response.body);
  }

  async getConsumerConnectionList(addr: string, group: string): Promise<ConsumerConnection> {
    const response = await this.api.call(
      addr,
      RequestCode.GET_CONSUMER_CONNECTION_LIST,
      { what: 'get consumer connections', group },
      { extFields: ConsumerGroupRequestHeader.encode({ consumerGroup: group }) },
    );
    return decodeConsumerConnection(response.body);
  }

  async createSubscriptionGroup(addr: string, config: SubscriptionGroupConfig): Promise<void> {
    await this.api.call(
      addr,
      RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP,
      { what: 'create subscription group', group: config.groupName },
      { body: jsonBody(config) },
    );
  }

  async deleteSubscriptionGroup(addr: string, groupName: string, removeOffset: boolean): Promise<void> {
    await this.api.call(
      addr,
      RequestCode.DELETE_SUBSCRIPTIONGROUP,
      { what: 'delete subscription group', group: groupName },
      { extFields: DeleteSubscriptionGroupRequestHeader.encode({ groupName, removeOffset }) },
    );
  }

  async getBrokerRuntimeInfo(addr: string): Promise<Map<string, string>> {
    const response = await this.api.call(addr, RequestCode.GET_BROKER_RUNTIME_INFO, {
      what: 'get broker runtime info',
    });
    return decodeKVTable(response.body);
  }
}
