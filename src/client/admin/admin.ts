/**
 * Admin client (the part of upstream's DefaultMQAdminExt that tests, mqadmin and the dashboard
 * need): topics (create/update on brokers, delete on brokers and NameServers), routes, cluster
 * info, topic stats, consume stats, consumer connections and offsets, subscription groups,
 * message lookup by offsetMsgId. Broker sets come from the cluster info (`clusterName`) or one
 * broker address (`brokerAddr`); without either, every broker of every cluster.
 */
import { RmqError, ErrorCode } from '../../common/errors.js';
import { retryTopic, SystemTopic } from '../../common/message/message-const.js';
import { decodeOffsetMsgId } from '../../common/message/message-id.js';
import { formatSocketAddr } from '../../common/socket-address.js';
import { MASTER_ID, type ClusterInfo, type TopicRouteData } from '../../protocol/route-data.js';
import { newTopicConfig, PermName, type TopicFilterType } from '../../protocol/topic-config.js';
import {
  compareMessageQueue,
  newSubscriptionGroupConfig,
  type ConsumeStats,
  type ConsumerConnection,
  type OffsetWrapper,
  type SubscriptionGroupConfig,
  type TopicOffset,
} from '../../protocol/admin-bodies.js';
import { resolveClientConfig, type ClientOptions } from '../client-options.js';
import { getOrCreateClientInstance, type MQClientInstance } from '../client-instance.js';
import { MessageExt } from '../message/message-ext.js';
import type { MessageQueue } from '../message/message-queue.js';
import { topicRouteToSubscribeInfo } from '../producer/topic-publish-info.js';
import { maxOffsetOf, minOffsetOf, searchOffsetOf, masterAddrOf } from '../consumer/consumer-support.js';
import { MQAdminAPI } from './mq-admin-api.js';

export type AdminOptions = ClientOptions;

/** Where an admin change goes: one broker, one cluster's masters, or (neither) every master. */
export interface BrokerTarget {
  clusterName?: string;
  brokerAddr?: string;
}

export interface CreateTopicOptions extends BrokerTarget {
  readQueueNums?: number;
  writeQueueNums?: number;
  perm?: number;
  order?: boolean;
  topicFilterType?: TopicFilterType;
  topicSysFlag?: number;
}

export class Admin {
  private instance: MQClientInstance | undefined;
  private adminApi: MQAdminAPI | undefined;
  private readonly options: AdminOptions;

  constructor(options: AdminOptions = {}) {
    this.options = options;
  }

  async start(): Promise<void> {
    if (this.instance) throw new RmqError(ErrorCode.CLIENT_STATE, 'the admin client is already started');
    const instance = getOrCreateClientInstance(resolveClientConfig(this.options, true));
    instance.acquire();
    this.instance = instance;
    this.adminApi = new MQAdminAPI(instance.api);
  }

  async shutdown(): Promise<void> {
    const instance = this.instance;
    if (!instance) return;
    this.instance = undefined;
    await instance.release();
  }

  private get client(): MQClientInstance {
    if (!this.instance) throw new RmqError(ErrorCode.CLIENT_STATE, 'the admin client is not started');
    return this.instance;
  }

  private get admin(): MQAdminAPI {
    if (!this.adminApi) throw new RmqError(ErrorCode.CLIENT_STATE, 'the admin client is not started');
    return this.adminApi;
  }

  /** Master addresses of the target brokers. */
  async brokerAddrs(target: BrokerTarget = {}): Promise<string[]> {
    if (target.brokerAddr) return [target.brokerAddr];
    const info = await this.examineBrokerClusterInfo();
    const names = target.clusterName
      ? info.clusterAddrTable.get(target.clusterName)
      : [...info.brokerAddrTable.keys()];
    if (!names) throw new RmqError(ErrorCode.ILLEGAL_ARGUMENT, `no cluster named ${target.clusterName}`);
    const out: string[] = [];
    for (const name of names) {
      const addr = info.brokerAddrTable.get(name)?.brokerAddrs.get(MASTER_ID);
      if (addr) out.push(addr);
    }
    return out;
  }

  async createTopic(topic: string, o: CreateTopicOptions = {}): Promise<void> {
    const tc = newTopicConfig(topic, {
      readQueueNums: o.readQueueNums ?? 8,
      writeQueueNums: o.writeQueueNums ?? 8,
      perm: o.perm ?? PermName.READ | PermName.WRITE,
      order: o.order ?? false,
      topicFilterType: o.topicFilterType ?? 'SINGLE_TAG',
      topicSysFlag: o.topicSysFlag ?? 0,
    });
    const addrs = await this.brokerAddrs(o);
    if (addrs.length === 0) throw new RmqError(ErrorCode.NO_ROUTE, 'no broker to create the topic on');
    await Promise.all(addrs.map((a) => this.admin.createTopic(a, tc, SystemTopic.AUTO_CREATE_TOPIC_KEY)));
  }

  /** Deletes the topic on the target brokers, then from every NameServer. */
  async deleteTopic(topic: string, target: BrokerTarget = {}): Promise<void> {
    const addrs = await this.brokerAddrs(target);
    await Promise.all(addrs.map((a) => this.admin.deleteTopicInBroker(a, topic)));
    await Promise.all(
      this.client.config.namesrvAddrs.map((ns) =>
        this.admin.deleteTopicInNamesrv(ns, topic, target.clusterName),
      ),
    );
  }

  examineTopicRoute(topic: string): Promise<TopicRouteData> {
    return this.client.api.getTopicRouteInfo(topic);
  }

  examineBrokerClusterInfo(): Promise<ClusterInfo> {
    return this.admin.getBrokerClusterInfo();
  }

  fetchAllTopicList(): Promise<string[]> {
    return this.admin.getAllTopicList();
  }

  /** Min/max offset of every queue of the topic, over all its brokers, sorted. */
  async examineTopicStats(topic: string): Promise<[MessageQueue, TopicOffset][]> {
    const route = await this.examineTopicRoute(topic);
    const parts = await Promise.all(
      route.brokerDatas
        .map((bd) => bd.brokerAddrs.get(MASTER_ID))
        .filter((a): a is string => a !== undefined)
        .map((a) => this.admin.getTopicStatsInfo(a, topic)),
    );
    return parts.flat().sort((a, b) => compareMessageQueue(a[0], b[0]));
  }

  /**
   * Broker and consumer offsets of the group's queues (all its topics, or one), over every broker
   * holding the group's retry topic or the topic.
   */
  async examineConsumeStats(group: string, topic?: string): Promise<ConsumeStats> {
    const addrs = new Set<string>();
    for (const t of topic ? [retryTopic(group), topic] : [retryTopic(group)]) {
      try {
        const route = await this.examineTopicRoute(t);
        for (const bd of route.brokerDatas) {
          const a = bd.brokerAddrs.get(MASTER_ID);
          if (a) addrs.add(a);
        }
      } catch (err) {
        if (!(err instanceof RmqError && err.code === ErrorCode.TOPIC_NOT_EXIST)) throw err;
      }
    }
    const parts = await Promise.all([...addrs].map((a) => this.admin.getConsumeStats(a, group, topic)));
    const offsetTable: [MessageQueue, OffsetWrapper][] = parts.flatMap((p) => p.offsetTable);
    offsetTable.sort((a, b) => compareMessageQueue(a[0], b[0]));
    return { offsetTable, consumeTps: parts.reduce((s, p) => s + p.consumeTps, 0) };
  }

  /** Members of a consumer group as the first broker of its retry topic knows them. */
  async examineConsumerConnectionInfo(group: string): Promise<ConsumerConnection> {
    const route = await this.examineTopicRoute(retryTopic(group));
    const addr = route.brokerDatas.map((bd) => bd.brokerAddrs.get(MASTER_ID)).find((a) => a !== undefined);
    if (!addr) throw new RmqError(ErrorCode.NO_ROUTE, `no broker for group ${group}`);
    return this.admin.getConsumerConnectionList(addr, group);
  }

  /** The group's committed offset of every queue of the topic (-1 where it has none). */
  async queryConsumerOffsets(group: string, topic: string): Promise<[MessageQueue, number][]> {
    const route = await this.examineTopicRoute(topic);
    const mqs = topicRouteToSubscribeInfo(topic, route).sort(compareMessageQueue);
    const client = this.client;
    return Promise.all(
      mqs.map(async (mq): Promise<[MessageQueue, number]> => {
        const addr = route.brokerDatas
          .find((b) => b.brokerName === mq.brokerName)
          ?.brokerAddrs.get(MASTER_ID);
        if (!addr) return [mq, -1];
        try {
          return [mq, await client.api.queryConsumerOffset(addr, group, mq)];
        } catch (err) {
          if (err instanceof RmqError && err.responseCode !== undefined) return [mq, -1];
          throw err;
        }
      }),
    );
  }

  async updateConsumerOffset(group: string, mq: MessageQueue, offset: number): Promise<void> {
    const client = this.client;
    await client.api.updateConsumerOffset(await masterAddrOf(client, mq), group, mq, offset, false);
  }

  async createSubscriptionGroup(
    config: Partial<SubscriptionGroupConfig> & { groupName: string },
    target: BrokerTarget = {},
  ): Promise<void> {
    const full = newSubscriptionGroupConfig(config.groupName, config);
    const addrs = await this.brokerAddrs(target);
    await Promise.all(addrs.map((a) => this.admin.createSubscriptionGroup(a, full)));
  }

  async deleteSubscriptionGroup(
    groupName: string,
    target: BrokerTarget = {},
    removeOffset = false,
  ): Promise<void> {
    const addrs = await this.brokerAddrs(target);
    await Promise.all(addrs.map((a) => this.admin.deleteSubscriptionGroup(a, groupName, removeOffset)));
  }

  maxOffset(mq: MessageQueue): Promise<number> {
    return maxOffsetOf(this.client, mq);
  }

  minOffset(mq: MessageQueue): Promise<number> {
    return minOffsetOf(this.client, mq);
  }

  searchOffset(mq: MessageQueue, timestamp: number): Promise<number> {
    return searchOffsetOf(this.client, mq, timestamp);
  }

  /** The message with this offsetMsgId (the broker's id), read from the broker it names. */
  async viewMessage(offsetMsgId: string): Promise<MessageExt> {
    const { address, offset } = decodeOffsetMsgId(offsetMsgId);
    const addr = formatSocketAddr(address);
    const stored = await this.client.api.viewMessage(addr, offset);
    return new MessageExt(stored, '');
  }

  /**
   * Messages of `topic` whose KEYS contain `key`, stored between `begin` and `end` (ms), from every
   * broker of the topic (QUERY_MESSAGE through the index), oldest first.
   */
  async queryMessage(
    topic: string,
    key: string,
    maxNum = 32,
    begin = 0,
    end = Number.MAX_SAFE_INTEGER,
  ): Promise<MessageExt[]> {
    const found = await this.queryIndex(topic, key, maxNum, begin, end, false);
    return found.filter((m) => m.keys.includes(key)).slice(0, maxNum);
  }

  /**
   * The message of `topic` with this msgId (the producer's UNIQ_KEY), e.g. one that went to
   * `%DLQ%<group>` or `%RETRY%<group>` (copies keep the msgId); undefined when none is found.
   */
  async queryMessageByUniqKey(topic: string, msgId: string): Promise<MessageExt | undefined> {
    const found = await this.queryIndex(topic, msgId, 32, 0, Number.MAX_SAFE_INTEGER, true);
    return found.find((m) => m.msgId === msgId);
  }

  private async queryIndex(
    topic: string,
    key: string,
    maxNum: number,
    begin: number,
    end: number,
    uniqKey: boolean,
  ): Promise<MessageExt[]> {
    const route = await this.examineTopicRoute(topic);
    const parts = await Promise.all(
      route.brokerDatas.flatMap((bd) => {
        const addr = bd.brokerAddrs.get(MASTER_ID) ?? bd.brokerAddrs.values().next().value;
        if (!addr) return [];
        return [
          this.admin
            .queryMessage(addr, { topic, key, maxNum, begin, end, uniqKey })
            .then((msgs) => msgs.map((m) => new MessageExt(m, bd.brokerName))),
        ];
      }),
    );
    return parts.flat().sort((a, b) => a.storeTimestamp - b.storeTimestamp);
  }

  getBrokerRuntimeInfo(brokerAddr: string): Promise<Map<string, string>> {
    return this.admin.getBrokerRuntimeInfo(brokerAddr);
  }
}
