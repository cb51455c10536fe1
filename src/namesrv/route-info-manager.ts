/**
 * The NameServer's route tables: clusters, broker names and their addresses by brokerId, topic
 * queue data per broker name, and live brokers with their last registration on a monotonic clock.
 * Only a master (brokerId 0) updates topic queue data, and only when its data version changed or
 * it registers for the first time. All operations are synchronous: one event loop owns the tables.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from '../common/logger.js';
import {
  MASTER_ID,
  type BrokerData,
  type ClusterInfo,
  type QueueData,
  type TopicRouteData,
} from '../protocol/route-data.js';
import {
  PermName,
  TopicSysFlag,
  dataVersionEquals,
  type DataVersion,
  type TopicConfigSerializeWrapper,
} from '../protocol/topic-config.js';

/** Opaque identity of a broker's connection (the remoting Channel). */
export type ChannelRef = object;

interface BrokerLiveInfo {
  lastUpdate: number;
  dataVersion: DataVersion;
  channel: ChannelRef | undefined;
  haServerAddr: string;
}

export interface RegisterBrokerInput {
  clusterName: string;
  brokerAddr: string;
  brokerName: string;
  brokerId: number;
  haServerAddr: string;
  topicConfigWrapper: TopicConfigSerializeWrapper;
  filterServerList: string[] | undefined;
  channel: ChannelRef | undefined;
}

export interface RegisterBrokerResult {
  haServerAddr?: string | undefined;
  masterAddr?: string | undefined;
}

export interface RouteInfoOptions {
  log: Logger;
  /** A broker silent this long is dropped (upstream: 120 s). */
  brokerChannelExpiredMs?: number;
  /** Monotonic milliseconds; injectable for tests. */
  clock?: () => number;
}

export class RouteInfoManager {
  private readonly topicQueueTable = new Map<string, Map<string, QueueData>>();
  private readonly brokerAddrTable = new Map<string, BrokerData>();
  private readonly clusterAddrTable = new Map<string, Set<string>>();
  private readonly brokerLiveTable = new Map<string, BrokerLiveInfo>();
  private readonly filterServerTable = new Map<string, string[]>();
  private readonly log: Logger;
  private readonly expiredMs: number;
  private readonly clock: () => number;

  constructor(options: RouteInfoOptions) {
    this.log = options.log;
    this.expiredMs = options.brokerChannelExpiredMs ?? 120_000;
    this.clock = options.clock ?? (() => performance.now());
  }

  registerBroker(input: RegisterBrokerInput): RegisterBrokerResult {
    const { clusterName, brokerAddr, brokerName, brokerId } = input;
    let names = this.clusterAddrTable.get(clusterName);
    if (!names) {
      names = new Set();
      this.clusterAddrTable.set(clusterName, names);
    }
    names.add(brokerName);

    let registerFirst = false;
    let brokerData = this.brokerAddrTable.get(brokerName);
    if (!brokerData) {
      registerFirst = true;
      brokerData = { cluster: clusterName, brokerName, brokerAddrs: new Map() };
      this.brokerAddrTable.set(brokerName, brokerData);
    }
    // One address holds one id: a slave promoted to master re-registers under id 0.
    for (const [id, addr] of brokerData.brokerAddrs) {
      if (addr === brokerAddr && id !== brokerId) brokerData.brokerAddrs.delete(id);
    }
    const oldAddr = brokerData.brokerAddrs.get(brokerId);
    brokerData.brokerAddrs.set(brokerId, brokerAddr);
    if (brokerId === MASTER_ID && oldAddr !== brokerAddr) {
      this.log.info(
        { cluster: clusterName, brokerName, from: oldAddr, to: brokerAddr },
        'master address changed',
      );
    }
    registerFirst ||= oldAddr === undefined;

    const wrapper = input.topicConfigWrapper;
    if (
      brokerId === MASTER_ID &&
      (registerFirst || this.isBrokerTopicConfigChanged(brokerAddr, wrapper.dataVersion))
    ) {
      for (const tc of wrapper.topicConfigTable.values()) {
        this.putQueueData(tc.topicName, {
          brokerName,
          readQueueNums: tc.readQueueNums,
          writeQueueNums: tc.writeQueueNums,
          perm: tc.perm,
          topicSysFlag: tc.topicSysFlag,
        });
      }
    }

    const prev = this.brokerLiveTable.get(brokerAddr);
    this.brokerLiveTable.set(brokerAddr, {
      lastUpdate: this.clock(),
      dataVersion: wrapper.dataVersion,
      channel: input.channel,
      haServerAddr: input.haServerAddr,
    });
    if (!prev) this.log.info({ brokerAddr, haServerAddr: input.haServerAddr }, 'new broker registered');

    if (input.filterServerList) {
      if (input.filterServerList.length === 0) this.filterServerTable.delete(brokerAddr);
      else this.filterServerTable.set(brokerAddr, input.filterServerList);
    }

    const result: RegisterBrokerResult = {};
    if (brokerId !== MASTER_ID) {
      const masterAddr = brokerData.brokerAddrs.get(MASTER_ID);
      const masterLive = masterAddr === undefined ? undefined : this.brokerLiveTable.get(masterAddr);
      if (masterAddr !== undefined && masterLive) {
        result.haServerAddr = masterLive.haServerAddr;
        result.masterAddr = masterAddr;
      }
    }
    return result;
  }

  private putQueueData(topic: string, qd: QueueData): void {
    let byBroker = this.topicQueueTable.get(topic);
    if (!byBroker) {
      byBroker = new Map();
      this.topicQueueTable.set(topic, byBroker);
      this.log.info({ topic, queueData: qd }, 'new topic registered');
    }
    byBroker.set(qd.brokerName, qd);
  }

  isBrokerTopicConfigChanged(brokerAddr: string, dataVersion: DataVersion): boolean {
    return !dataVersionEquals(this.brokerLiveTable.get(brokerAddr)?.dataVersion, dataVersion);
  }

  queryBrokerTopicConfig(brokerAddr: string): DataVersion | undefined {
    return this.brokerLiveTable.get(brokerAddr)?.dataVersion;
  }

  /** Refreshes a broker's heartbeat without re-registering (QUERY_DATA_VERSION, unchanged). */
  touchBroker(brokerAddr: string): void {
    const live = this.brokerLiveTable.get(brokerAddr);
    if (live) live.lastUpdate = this.clock();
  }

  unregisterBroker(clusterName: string, brokerAddr: string, brokerName: string, brokerId: number): void {
    const removed = this.brokerLiveTable.delete(brokerAddr);
    this.log.info({ brokerAddr, removed }, 'unregister broker');
    this.filterServerTable.delete(brokerAddr);
    const brokerData = this.brokerAddrTable.get(brokerName);
    if (!brokerData) return;
    brokerData.brokerAddrs.delete(brokerId);
    if (brokerData.brokerAddrs.size > 0) return;
    this.brokerAddrTable.delete(brokerName);
    const names = this.clusterAddrTable.get(clusterName);
    if (names) {
      names.delete(brokerName);
      if (names.size === 0) this.clusterAddrTable.delete(clusterName);
    }
    this.removeTopicsOfBroker(brokerName);
  }

  private removeTopicsOfBroker(brokerName: string): void {
    for (const [topic, byBroker] of this.topicQueueTable) {
      byBroker.delete(brokerName);
      if (byBroker.size === 0) {
        this.topicQueueTable.delete(topic);
        this.log.info({ topic }, 'topic has no broker left, removed');
      }
    }
  }

  pickupTopicRouteData(topic: string): TopicRouteData | undefined {
    const byBroker = this.topicQueueTable.get(topic);
    if (!byBroker || byBroker.size === 0) return undefined;
    const brokerDatas: BrokerData[] = [];
    const filterServerTable = new Map<string, string[]>();
    for (const brokerName of byBroker.keys()) {
      const bd = this.brokerAddrTable.get(brokerName);
      if (!bd) continue;
      brokerDatas.push({
        cluster: bd.cluster,
        brokerName: bd.brokerName,
        brokerAddrs: new Map(bd.brokerAddrs),
      });
      for (const addr of bd.brokerAddrs.values()) {
        const list = this.filterServerTable.get(addr);
        if (list) filterServerTable.set(addr, list);
      }
    }
    if (brokerDatas.length === 0) return undefined;
    return {
      queueDatas: [...byBroker.values()].map((qd) => ({ ...qd })),
      brokerDatas,
      filterServerTable,
    };
  }

  /** Drops brokers silent past the expiry; returns how many. `close` closes their connections. */
  scanNotActiveBroker(close: (channel: ChannelRef) => void): number {
    const now = this.clock();
    let removed = 0;
    for (const [addr, live] of [...this.brokerLiveTable]) {
      if (live.lastUpdate + this.expiredMs >= now) continue;
      this.log.warn({ brokerAddr: addr, silentMs: Math.round(now - live.lastUpdate) }, 'broker expired');
      this.brokerLiveTable.delete(addr);
      if (live.channel) close(live.channel);
      this.removeBrokerAddr(addr);
      removed++;
    }
    return removed;
  }

  /** A connection closed: forget the broker that registered through it, if any. */
  onChannelDestroy(channel: ChannelRef): void {
    for (const [addr, live] of this.brokerLiveTable) {
      if (live.channel === channel) {
        this.log.info({ brokerAddr: addr }, 'broker connection closed, removing its routes');
        this.brokerLiveTable.delete(addr);
        this.removeBrokerAddr(addr);
        return;
      }
    }
  }

  private removeBrokerAddr(brokerAddr: string): void {
    this.filterServerTable.delete(brokerAddr);
    for (const bd of this.brokerAddrTable.values()) {
      let found = false;
      for (const [id, addr] of bd.brokerAddrs) {
        if (addr === brokerAddr) {
          bd.brokerAddrs.delete(id);
          found = true;
          break;
        }
      }
      if (!found) continue;
      if (bd.brokerAddrs.size === 0) {
        this.brokerAddrTable.delete(bd.brokerName);
        for (const [cluster, names] of this.clusterAddrTable) {
          if (names.delete(bd.brokerName)) {
            if (names.size === 0) this.clusterAddrTable.delete(cluster);
            break;
          }
        }
        this.removeTopicsOfBroker(bd.brokerName);
      }
      return;
    }
  }

  getAllClusterInfo(): ClusterInfo {
    const brokerAddrTable = new Map<string, BrokerData>();
    for (const [name, bd] of this.brokerAddrTable) {
      brokerAddrTable.set(name, { ...bd, brokerAddrs: new Map(bd.brokerAddrs) });
    }
    const clusterAddrTable = new Map<string, string[]>();
    for (const [cluster, names] of this.clusterAddrTable) clusterAddrTable.set(cluster, [...names]);
    return { brokerAddrTable, clusterAddrTable };
  }

  getAllTopicList(): string[] {
    return [...this.topicQueueTable.keys()];
  }

  deleteTopic(topic: string, clusterName?: string): void {
    if (!clusterName) {
      this.topicQueueTable.delete(topic);
      return;
    }
    const names = this.clusterAddrTable.get(clusterName);
    const byBroker = this.topicQueueTable.get(topic);
    if (!names || !byBroker) return;
    for (const name of names) byBroker.delete(name);
    if (byBroker.size === 0) this.topicQueueTable.delete(topic);
  }

  getTopicsByCluster(cluster: string): string[] {
    const names = this.clusterAddrTable.get(cluster);
    if (!names) return [];
    const out = new Set<string>();
    for (const [topic, byBroker] of this.topicQueueTable) {
      for (const name of names) if (byBroker.has(name)) out.add(topic);
    }
    return [...out];
  }

  /** Cluster and broker names (each is also a topic upstream) plus one broker address to ask. */
  getSystemTopicList(): { topicList: string[]; brokerAddr?: string } {
    const topicList: string[] = [];
    for (const [cluster, names] of this.clusterAddrTable) topicList.push(cluster, ...names);
    let brokerAddr: string | undefined;
    for (const bd of this.brokerAddrTable.values()) {
      const first = bd.brokerAddrs.values().next();
      if (!first.done) {
        brokerAddr = first.value;
        break;
      }
    }
    return { topicList, brokerAddr };
  }

  /** Topics whose first queue data matches `pick` (unit topic lists). */
  topicsWhere(pick: (qd: QueueData) => boolean): string[] {
    const out: string[] = [];
    for (const [topic, byBroker] of this.topicQueueTable) {
      const first = byBroker.values().next();
      if (!first.done && pick(first.value)) out.push(topic);
    }
    return out;
  }

  /** Clears (wipe) or restores (add) the write permission of a broker's topics; returns the count. */
  operateWritePerm(brokerName: string, wipe: boolean): number {
    let count = 0;
    for (const byBroker of this.topicQueueTable.values()) {
      const qd = byBroker.get(brokerName);
      if (!qd) continue;
      qd.perm = wipe ? qd.perm & ~PermName.WRITE : PermName.READ | PermName.WRITE;
      count++;
    }
    return count;
  }

  /** Live broker addresses (for tests and inspection). */
  liveBrokers(): string[] {
    return [...this.brokerLiveTable.keys()];
  }
}

export const isUnitTopic = (qd: QueueData): boolean => (qd.topicSysFlag & TopicSysFlag.UNIT) !== 0;
export const hasUnitSub = (qd: QueueData): boolean => (qd.topicSysFlag & TopicSysFlag.UNIT_SUB) !== 0;
