/**
 * MQClientInstance: what producers, consumers and admin clients of one client id share (one per
 * process, client id and NameServer list, as upstream's MQClientManager keeps them):
 * - one RemotingClient (connections to NameServers and brokers) whose dispatcher answers the
 *   requests brokers send us (client-remoting-processor.ts);
 * - topic routes and the broker address table, refreshed every pollNameServerInterval and on demand;
 * - heartbeats to every broker of the routes (only masters when no consumer is registered);
 * - the rebalance (every 20 s and at once on NOTIFY_CONSUMER_IDS_CHANGED) and consumer offset
 *   commits (every persistConsumerOffsetInterval);
 * - UNREGISTER_CLIENT to every broker when a group leaves, and shutdown when the last one has.
 */
import { getLogger, type Logger } from '../common/logger.js';
import { RmqError, ErrorCode, errorMessage } from '../common/errors.js';
import { RETRY_GROUP_TOPIC_PREFIX, SystemGroup, SystemTopic } from '../common/message/message-const.js';
import { RemotingClient } from '../remoting/remoting-client.js';
import { MASTER_ID, type TopicRouteData } from '../protocol/route-data.js';
import type {
  ConsumeFromWhere,
  ConsumeType,
  HeartbeatData,
  MessageModel,
  SubscriptionData,
} from '../protocol/heartbeat.js';
import { buildClientId, type ClientConfig } from './client-options.js';
import { MQClientAPI } from './mq-client-api.js';
import { NamesrvSelector } from './namesrv-selector.js';
import { PeriodicTask } from '../common/periodic-task.js';
import { createClientDispatcher } from './client-remoting-processor.js';
import {
  topicRouteToPublishInfo,
  topicRouteToSubscribeInfo,
  type TopicPublishInfo,
} from './producer/topic-publish-info.js';
import type { MessageQueue } from './message/message-queue.js';
import type { MessageExt } from './message/message-ext.js';
import type { CheckTransactionStateRequestHeader } from '../protocol/broker-headers.js';
import type { HeaderOf } from '../protocol/header.js';
import type { ConsumerRunningInfo } from './consumer/consumer-running-info.js';
import type { ConsumeMessageDirectlyResult } from '../protocol/admin-call-bodies.js';

export type CheckTransactionStateRequest = HeaderOf<typeof CheckTransactionStateRequestHeader.fields>;

/** What the instance needs from a producer. */
export interface ProducerInner {
  readonly group: string;
  /** Topics this producer sends to (their routes are kept fresh). */
  publishTopics(): Iterable<string>;
  updateTopicPublishInfo(topic: string, info: TopicPublishInfo): void;
  /**
   * CHECK_TRANSACTION_STATE from the broker at `addr` about a half message of this group
   * (transaction producers only): answer later with END_TRANSACTION.
   */
  checkTransactionState?(addr: string, msg: MessageExt, header: CheckTransactionStateRequest): void;
}

/** What the instance needs from a consumer (push or lite pull). */
export interface ConsumerInner {
  readonly group: string;
  readonly messageModel: MessageModel;
  readonly consumeType: ConsumeType;
  readonly consumeFromWhere: ConsumeFromWhere;
  subscriptions(): SubscriptionData[];
  updateTopicSubscribeInfo(topic: string, mqs: MessageQueue[]): void;
  doRebalance(): Promise<void>;
  persistConsumerOffset(): Promise<void>;
  /** RESET_CONSUMER_CLIENT_OFFSET from a broker (an admin reset the group's offsets). */
  resetOffset(topic: string, offsets: [MessageQueue, number][]): Promise<void>;
  runningInfo(): ConsumerRunningInfo;
  /** Committed offsets of the topic's queues this consumer holds (GET_CONSUMER_STATUS_FROM_CLIENT). */
  consumerStatus(topic: string): [MessageQueue, number][];
  /**
   * CONSUME_MESSAGE_DIRECTLY: runs the listener once on `msg` (stored on `brokerName`) and reports
   * its answer. Push consumers only: a lite pull consumer has no listener.
   */
  consumeMessageDirectly?(msg: MessageExt, brokerName: string): Promise<ConsumeMessageDirectlyResult>;
}

/** Used when the route of a new topic is missing: the auto-create template, as upstream. */
export interface DefaultTopicRoute {
  createTopicKey: string;
  defaultTopicQueueNums: number;
}

const REBALANCE_INTERVAL_MS = 20_000;

export class MQClientInstance {
  readonly clientId: string;
  readonly log: Logger;
  readonly remoting: RemotingClient;
  readonly api: MQClientAPI;
  readonly bootTimestamp = Date.now();
  private readonly producers = new Map<string, ProducerInner>();
  private readonly consumers = new Map<string, ConsumerInner>();
  private users = 0;
  private readonly routes = new Map<string, TopicRouteData>();
  /** brokerName -> brokerId -> address */
  private readonly brokerAddrTable = new Map<string, Map<number, string>>();
  private readonly routeUpdates = new Map<string, Promise<boolean>>();
  private readonly tasks: PeriodicTask[] = [];
  private rebalanceTask: PeriodicTask | undefined;
  private heartbeatTask: PeriodicTask | undefined;
  private state: 'CREATED' | 'RUNNING' | 'SHUTDOWN' = 'CREATED';

  constructor(
    readonly config: ClientConfig,
    private readonly onShutdown: () => void,
  ) {
    this.clientId = buildClientId(config);
    this.log = getLogger('client').child({ clientId: this.clientId });
    this.remoting = new RemotingClient({ log: this.log, dispatcher: createClientDispatcher(this) });
    this.api = new MQClientAPI(
      this.remoting,
      new NamesrvSelector(config.namesrvAddrs),
      config.serializeType,
      config.mqClientApiTimeout,
      this.log,
    );
  }

  get running(): boolean {
    return this.state === 'RUNNING';
  }

  /** Starts the background work once; later calls do nothing. */
  start(): void {
    if (this.state !== 'CREATED') return;
    this.state = 'RUNNING';
    const c = this.config;
    this.task('update-routes', c.pollNameServerInterval, () => this.updateAllTopicRoutes(), 10);
    this.heartbeatTask = this.task(
      'heartbeat',
      c.heartbeatBrokerInterval,
      async () => {
        this.cleanOfflineBrokers();
        await this.sendHeartbeatToAllBrokers();
      },
      1000,
    );
    this.task(
      'persist-offsets',
      c.persistConsumerOffsetInterval,
      () => this.persistAllConsumerOffset(),
      // Upstream waits 10 s before the first commit; a shorter interval should not wait longer.
      Math.min(10_000, c.persistConsumerOffsetInterval),
    );
    this.rebalanceTask = this.task(
      'rebalance',
      REBALANCE_INTERVAL_MS,
      () => this.doRebalance(),
      REBALANCE_INTERVAL_MS,
    );
  }

  private task(
    name: string,
    intervalMs: number,
    fn: () => Promise<void>,
    initialDelayMs: number,
  ): PeriodicTask {
    const t = new PeriodicTask(name, intervalMs, this.log, fn);
    t.start(initialDelayMs);
    this.tasks.push(t);
    return t;
  }

  /** An admin client (or any other user without a group) holds the instance open. */
  acquire(): void {
    this.users++;
  }

  async release(): Promise<void> {
    this.users--;
    await this.maybeShutdown();
  }

  registerProducer(p: ProducerInner): void {
    if (this.producers.has(p.group)) {
      throw new RmqError(
        ErrorCode.CLIENT_STATE,
        `The producer group[${p.group}] has been created before in client ${this.clientId}; specify another group or instanceName`,
      );
    }
    this.producers.set(p.group, p);
  }

  registerConsumer(c: ConsumerInner): void {
    if (this.consumers.has(c.group)) {
      throw new RmqError(
        ErrorCode.CLIENT_STATE,
        `The consumer group[${c.group}] has been created before in client ${this.clientId}; specify another group or instanceName`,
      );
    }
    this.consumers.set(c.group, c);
  }

  async unregisterProducer(group: string): Promise<void> {
    if (!this.producers.delete(group)) return;
    await this.unregisterClient({ producerGroup: group });
    await this.maybeShutdown();
  }

  async unregisterConsumer(group: string): Promise<void> {
    if (!this.consumers.delete(group)) return;
    await this.unregisterClient({ consumerGroup: group });
    await this.maybeShutdown();
  }

  consumer(group: string): ConsumerInner | undefined {
    return this.consumers.get(group);
  }

  producer(group: string): ProducerInner | undefined {
    return this.producers.get(group);
  }

  private async unregisterClient(groups: { producerGroup?: string; consumerGroup?: string }): Promise<void> {
    const calls: Promise<void>[] = [];
    for (const addrs of this.brokerAddrTable.values()) {
      for (const addr of addrs.values()) {
        calls.push(
          this.api.unregisterClient(addr, this.clientId, groups).catch((err: unknown) => {
            this.log.warn({ addr, ...groups, err: errorMessage(err) }, 'unregister client failed');
          }),
        );
      }
    }
    await Promise.all(calls);
  }

  private async maybeShutdown(): Promise<void> {
    const inner = this.producers.has(SystemGroup.CLIENT_INNER_PRODUCER) ? 1 : 0;
    if (this.producers.size > inner || this.consumers.size > 0 || this.users > 0) return;
    if (this.state === 'SHUTDOWN') return;
    this.state = 'SHUTDOWN';
    this.onShutdown();
    // The inner producer (producer/inner-producer.ts) does not keep the instance; it leaves with it.
    if (inner && this.producers.delete(SystemGroup.CLIENT_INNER_PRODUCER)) {
      await this.unregisterClient({ producerGroup: SystemGroup.CLIENT_INNER_PRODUCER });
    }
    for (const t of this.tasks) await t.stop();
    this.remoting.close();
    this.log.debug('client instance stopped');
  }

  // ---- routes ----

  topicRoute(topic: string): TopicRouteData | undefined {
    return this.routes.get(topic);
  }

  /**
   * Fetches a topic's route and hands it to every producer and consumer. With `def`, the route of
   * the auto-create template stands in for the topic (queue count capped at defaultTopicQueueNums).
   * Concurrent calls for one topic share one lookup. Returns false when the NameServer has no route.
   */
  updateTopicRouteInfoFromNameServer(topic: string, def?: DefaultTopicRoute): Promise<boolean> {
    const key = def ? `${topic}\u0000${def.createTopicKey}` : topic;
    let p = this.routeUpdates.get(key);
    if (!p) {
      p = this.fetchRoute(topic, def).finally(() => this.routeUpdates.delete(key));
      this.routeUpdates.set(key, p);
    }
    return p;
  }

  private async fetchRoute(topic: string, def: DefaultTopicRoute | undefined): Promise<boolean> {
    let route: TopicRouteData;
    try {
      route = await this.api.getTopicRouteInfo(def ? def.createTopicKey : topic);
    } catch (err) {
      const quiet = topic.startsWith(RETRY_GROUP_TOPIC_PREFIX) || topic === SystemTopic.AUTO_CREATE_TOPIC_KEY;
      if (err instanceof RmqError && err.code === ErrorCode.TOPIC_NOT_EXIST) {
        if (!quiet) this.log.debug({ topic, via: def?.createTopicKey }, 'no route for topic');
      } else {
        this.log.warn({ topic, err: errorMessage(err) }, 'route lookup failed');
      }
      return false;
    }
    if (def) {
      for (const qd of route.queueDatas) {
        const n = Math.min(def.defaultTopicQueueNums, qd.readQueueNums);
        qd.readQueueNums = n;
        qd.writeQueueNums = n;
      }
    }
    let newBroker = false;
    for (const bd of route.brokerDatas) {
      const known = this.brokerAddrTable.get(bd.brokerName);
      for (const [id, addr] of bd.brokerAddrs) if (known?.get(id) !== addr) newBroker = true;
      this.brokerAddrTable.set(bd.brokerName, new Map(bd.brokerAddrs));
    }
    // A broker we never greeted would refuse our pulls until the next heartbeat round.
    if (newBroker && this.consumers.size > 0) this.heartbeatTask?.wakeup();
    const publishInfo = topicRouteToPublishInfo(topic, route, def === undefined);
    for (const p of this.producers.values()) p.updateTopicPublishInfo(topic, publishInfo);
    if (!def) {
      const subscribeInfo = topicRouteToSubscribeInfo(topic, route);
      for (const c of this.consumers.values()) c.updateTopicSubscribeInfo(topic, subscribeInfo);
    }
    this.routes.set(topic, route);
    return true;
  }

  async updateAllTopicRoutes(): Promise<void> {
    const topics = new Set<string>();
    for (const p of this.producers.values()) for (const t of p.publishTopics()) topics.add(t);
    for (const c of this.consumers.values()) for (const s of c.subscriptions()) topics.add(s.topic);
    await Promise.all([...topics].map((t) => this.updateTopicRouteInfoFromNameServer(t)));
  }

  /** Brokers no longer in any route are forgotten (no more heartbeats to them). */
  private cleanOfflineBrokers(): void {
    const live = new Set<string>();
    for (const r of this.routes.values())
      for (const bd of r.brokerDatas) for (const a of bd.brokerAddrs.values()) live.add(a);
    for (const [name, addrs] of this.brokerAddrTable) {
      for (const [id, addr] of addrs) if (!live.has(addr)) addrs.delete(id);
      if (addrs.size === 0) this.brokerAddrTable.delete(name);
    }
  }

  /** The broker group a node address belongs to. */
  findBrokerNameByAddr(addr: string): string | undefined {
    for (const [name, addrs] of this.brokerAddrTable) {
      for (const a of addrs.values()) if (a === addr) return name;
    }
    return undefined;
  }

  /** The master's address, where sends go. */
  findBrokerAddressInPublish(brokerName: string): string | undefined {
    return this.brokerAddrTable.get(brokerName)?.get(MASTER_ID);
  }

  /** The address of `brokerId` of a broker group, or (unless onlyThisBroker) any of its nodes. */
  findBrokerAddressInSubscribe(
    brokerName: string,
    brokerId: number,
    onlyThisBroker: boolean,
  ): { addr: string; slave: boolean } | undefined {
    const addrs = this.brokerAddrTable.get(brokerName);
    if (!addrs || addrs.size === 0) return undefined;
    const exact = addrs.get(brokerId);
    if (exact) return { addr: exact, slave: brokerId !== MASTER_ID };
    if (onlyThisBroker) return undefined;
    const [id, addr] = addrs.entries().next().value as [number, string];
    return { addr, slave: id !== MASTER_ID };
  }

  /** The master (else any node) of a random broker of the topic's route. */
  findBrokerAddrByTopic(topic: string): string | undefined {
    const route = this.routes.get(topic);
    if (!route || route.brokerDatas.length === 0) return undefined;
    const bd = route.brokerDatas[Math.floor(Math.random() * route.brokerDatas.length)]!;
    return bd.brokerAddrs.get(MASTER_ID) ?? bd.brokerAddrs.values().next().value;
  }

  /** Client ids of the group's consumers, as one broker of the topic knows them; [] when unknown. */
  async findConsumerIdList(topic: string, group: string): Promise<string[]> {
    let addr = this.findBrokerAddrByTopic(topic);
    if (!addr) {
      await this.updateTopicRouteInfoFromNameServer(topic);
      addr = this.findBrokerAddrByTopic(topic);
    }
    if (!addr) return [];
    try {
      return await this.api.getConsumerIdListByGroup(addr, group);
    } catch (err) {
      this.log.warn({ topic, group, addr, err: errorMessage(err) }, 'get consumer id list failed');
      return [];
    }
  }

  // ---- heartbeat, rebalance, offsets ----

  heartbeatData(): HeartbeatData {
    return {
      clientID: this.clientId,
      producerDataSet: [...this.producers.keys()].map((groupName) => ({ groupName })),
      consumerDataSet: [...this.consumers.values()].map((c) => ({
        groupName: c.group,
        consumeType: c.consumeType,
        messageModel: c.messageModel,
        consumeFromWhere: c.consumeFromWhere,
        subscriptionDataSet: c.subscriptions(),
        unitMode: false,
      })),
    };
  }

  /** HEART_BEAT to every broker known from the routes (masters only while no consumer is registered). */
  async sendHeartbeatToAllBrokers(): Promise<void> {
    if (this.producers.size === 0 && this.consumers.size === 0) return;
    const data = this.heartbeatData();
    const calls: Promise<void>[] = [];
    for (const [brokerName, addrs] of this.brokerAddrTable) {
      for (const [id, addr] of addrs) {
        if (this.consumers.size === 0 && id !== MASTER_ID) continue;
        calls.push(
          this.api.heartbeat(addr, data).catch((err: unknown) => {
            this.log.warn({ brokerName, addr, err: errorMessage(err) }, 'heartbeat failed');
          }),
        );
      }
    }
    await Promise.all(calls);
  }

  /** Runs the rebalance of every consumer soon (after the one in progress, if any). */
  rebalanceImmediately(): void {
    this.rebalanceTask?.wakeup();
  }

  private async doRebalance(): Promise<void> {
    for (const c of [...this.consumers.values()]) {
      try {
        await c.doRebalance();
      } catch (err) {
        this.log.warn({ group: c.group, err: errorMessage(err) }, 'rebalance failed');
      }
    }
  }

  private async persistAllConsumerOffset(): Promise<void> {
    for (const c of [...this.consumers.values()]) {
      try {
        await c.persistConsumerOffset();
      } catch (err) {
        this.log.warn({ group: c.group, err: errorMessage(err) }, 'persist consumer offsets failed');
      }
    }
  }
}

const instances = new Map<string, MQClientInstance>();

/** The shared instance of a client id and NameServer list, created on first use. */
export function getOrCreateClientInstance(config: ClientConfig): MQClientInstance {
  const key = `${buildClientId(config)}|${config.namesrvAddrs.join(';')}|${config.serializeType}`;
  let instance = instances.get(key);
  if (!instance) {
    const created = new MQClientInstance(config, () => {
      if (instances.get(key) === created) instances.delete(key);
    });
    instance = created;
    instances.set(key, instance);
  }
  return instance;
}
