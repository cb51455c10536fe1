/**
 * A broker: remoting servers (listenPort, and the VIP port listenPort - 2), the message store,
 * topic / group / offset / client managers, request processors, long polling, and registration
 * with every NameServer. Used by `mqbroker`, the standalone process and tests.
 */
import { getLogger, type Logger } from '../common/logger.js';
import { RmqError, ErrorCode, errorMessage } from '../common/errors.js';
import type { Service } from '../common/service.js';
import { PeriodicTask } from '../common/periodic-task.js';
import { RemotingServer } from '../remoting/remoting-server.js';
import { RemotingClient } from '../remoting/remoting-client.js';
import { RequestDispatcher } from '../remoting/dispatcher.js';
import { createRequest, type RemotingCommand } from '../remoting/remoting-command.js';
import type { Channel } from '../remoting/channel.js';
import type { NettyServerConfig } from '../remoting/netty-server-config.js';
import { nettyServerConfigSchema } from '../remoting/netty-server-config.js';
import { RequestCode } from '../protocol/request-code.js';
import { ConsumerGroupRequestHeader } from '../protocol/broker-headers.js';
import { MessageStore } from '../store/message-store.js';
import { messageStoreConfigSchema, type MessageStoreConfig } from '../store/message-store-config.js';
import type { MessageToStore, PutMessageResult } from '../store/store-types.js';
import { join } from 'node:path';
import type { BrokerConfig, BrokerConfigSchema } from './broker-config.js';
import { TopicConfigManager } from './topic/topic-config-manager.js';
import { SubscriptionGroupManager } from './subscription/subscription-group-manager.js';
import { ConsumerOffsetManager } from './offset/consumer-offset-manager.js';
import { ConsumerManager, type ConsumerGroupInfo } from './client/consumer-manager.js';
import { ProducerManager } from './client/producer-manager.js';
import { PullRequestHoldService } from './long-polling/pull-request-hold-service.js';
import { SendMessageProcessor } from './processors/send-message-processor.js';
import { PullMessageProcessor } from './processors/pull-message-processor.js';
import { registerBrokerProcessors } from './register-processors.js';
import {
  BrokerOuterAPI,
  parseNamesrvAddrs,
  type BrokerIdentity,
  type RegisterResult,
} from './out/broker-outer-api.js';
import { BrokerStats } from './broker-stats.js';
import { ScheduleMessageService, delayLevelOf } from './schedule/schedule-message-service.js';
import { TransactionalMessageService } from './transaction/transactional-message-service.js';
import { RebalanceLockManager } from './client/rebalance-lock-manager.js';
import { MessageProperty, SystemTopic } from '../common/message/message-const.js';
import { appendProperty, encodeProperties, removeProperty } from '../common/message/message-properties.js';
import { MessageSysFlag, transactionValue } from '../common/message/message-sysflag.js';
import { encodeMessageExt, type MessageExt } from '../common/message/message-record.js';
import { parseDelayLevels } from '../store/message-store-config.js';
import { CheckTransactionStateRequestHeader } from '../protocol/broker-headers.js';

export interface BrokerControllerOptions {
  brokerConfig: BrokerConfig;
  brokerSchema: BrokerConfigSchema;
  storeConfig: MessageStoreConfig;
  serverConfig: NettyServerConfig;
  log?: Logger;
  /** Serve the VIP port (listenPort - 2) too; default true when listenPort is fixed. */
  fastPort?: boolean;
  /** Period of the client channel expiry scan (10 s upstream). */
  housekeepingIntervalMs?: number;
  /** Client connections silent this long are dropped (120 s upstream). */
  channelExpiredMs?: number;
  /** Long-polling scan period (upstream 5 s; we check every second). */
  pullHoldCheckIntervalMs?: number;
}

export class BrokerController {
  readonly log: Logger;
  readonly config: BrokerConfig;
  readonly storeConfig: MessageStoreConfig;
  readonly serverConfig: NettyServerConfig;
  readonly topics: TopicConfigManager;
  readonly groups: SubscriptionGroupManager;
  readonly offsets: ConsumerOffsetManager;
  readonly consumers: ConsumerManager;
  readonly producers: ProducerManager;
  readonly stats = new BrokerStats();
  readonly sendProcessor: SendMessageProcessor;
  readonly pullProcessor: PullMessageProcessor;
  readonly pullHold: PullRequestHoldService;
  readonly schedule: ScheduleMessageService;
  readonly transactions: TransactionalMessageService;
  readonly locks = new RebalanceLockManager();
  private storeRef: MessageStore | undefined;
  private readonly server: RemotingServer;
  private fastServer: RemotingServer | undefined;
  private readonly client: RemotingClient;
  private readonly outer: BrokerOuterAPI;
  private readonly services: Service[] = [];
  private readonly fastPortEnabled: boolean;
  private unsubscribeDispatch: (() => void) | undefined;
  private started = false;
  /** The last registration answers (a slave learns its master here). */
  lastRegistration: RegisterResult[] = [];

  constructor(private readonly options: BrokerControllerOptions) {
    this.config = options.brokerConfig;
    this.storeConfig = options.storeConfig;
    this.serverConfig = options.serverConfig;
    this.log = options.log ?? getLogger('broker');
    this.validateRole();
    const configDir = join(this.storeConfig.storePathRootDir, 'config');
    this.topics = new TopicConfigManager(
      join(configDir, 'topics.json'),
      this.config,
      this.log.child({ part: 'topics' }),
    );
    this.topics.onChange = () => void this.registerBrokerAll();
    this.groups = new SubscriptionGroupManager(
      join(configDir, 'subscriptionGroup.json'),
      () => this.config.autoCreateSubscriptionGroup,
      this.log.child({ part: 'groups' }),
    );
    this.offsets = new ConsumerOffsetManager(
      join(configDir, 'consumerOffset.json'),
      this.log.child({ part: 'offsets' }),
    );
    this.consumers = new ConsumerManager({
      log: this.log.child({ part: 'consumers' }),
      onGroupChanged: (g) => this.notifyConsumerIdsChanged(g),
      channelExpiredMs: options.channelExpiredMs,
    });
    this.producers = new ProducerManager(this.log.child({ part: 'producers' }), options.channelExpiredMs);
    this.sendProcessor = new SendMessageProcessor(this);
    this.pullProcessor = new PullMessageProcessor(this);
    this.pullHold = new PullRequestHoldService(
      options.pullHoldCheckIntervalMs ??
        (this.config.longPollingEnable ? 1000 : this.config.shortPollingTimeMills),
      (topic, queueId) => this.store.getMaxOffsetInQueue(topic, queueId),
      (pull) => this.pullProcessor.wakeUp(pull.request, pull.channel),
      this.log,
    );

    this.schedule = new ScheduleMessageService(
      join(configDir, 'delayOffset.json'),
      parseDelayLevels(this.storeConfig.messageDelayLevel),
      () => this.store,
      this.storeConfig.flushDelayOffsetInterval,
      this.log.child({ part: 'schedule' }),
    );
    this.transactions = new TransactionalMessageService(this);

    const dispatcher = new RequestDispatcher(this.log);
    registerBrokerProcessors(dispatcher, this);
    this.server = new RemotingServer({
      port: this.serverConfig.listenPort,
      host: this.serverConfig.bindAddress,
      dispatcher,
      log: this.log.child({ part: 'remoting' }),
      idleTimeoutMs: this.serverConfig.serverChannelMaxIdleTimeSeconds * 1000,
    });
    this.server.on('disconnect', (channel) => this.onChannelClosed(channel));
    this.fastPortEnabled = options.fastPort ?? this.serverConfig.listenPort > 2;
    this.client = new RemotingClient({ log: this.log.child({ part: 'namesrv-client' }) });
    this.outer = new BrokerOuterAPI(this.client, this.log);
  }

  /** Upstream's BrokerStartup rule: masters are id 0, a slave needs an id above 0. */
  private validateRole(): void {
    if (this.storeConfig.brokerRole === 'SLAVE') {
      if (this.config.brokerId <= 0) {
        throw new RmqError(
          ErrorCode.CONFIG_INVALID,
          "Slave's brokerId must be > 0 (brokerRole=SLAVE, brokerId=0)",
        );
      }
    } else if (this.config.brokerId !== 0) {
      this.log.warn(
        { brokerId: this.config.brokerId, brokerRole: this.storeConfig.brokerRole },
        'a master always has brokerId 0',
      );
      this.config.brokerId = 0;
    }
  }

  get store(): MessageStore {
    if (!this.storeRef) throw new RmqError(ErrorCode.SERVICE_STATE, 'broker store not started');
    return this.storeRef;
  }

  get port(): number {
    return this.server.port;
  }

  get brokerAddr(): string {
    return `${this.config.brokerIP1}:${this.port}`;
  }

  identity(): BrokerIdentity {
    return {
      clusterName: this.config.brokerClusterName,
      brokerName: this.config.brokerName,
      brokerAddr: this.brokerAddr,
      haServerAddr: `${this.config.brokerIP2}:${this.storeConfig.haListenPort || this.port + 1}`,
      brokerId: this.config.brokerId,
    };
  }

  namesrvAddrs(): string[] {
    return parseNamesrvAddrs(this.config.namesrvAddr);
  }

  async start(): Promise<void> {
    this.server.setNotServing('[REJECTREQUEST]system busy, broker is starting');
    await this.server.start();
    if (this.fastPortEnabled) await this.startFastPort();
    try {
      this.topics.load();
      this.groups.load();
      this.offsets.load();
      this.schedule.load();
      this.storeRef = new MessageStore(this.storeConfig, {
        storeHost: { host: this.config.brokerIP1, port: this.port },
      });
      await this.storeRef.start();
    } catch (err) {
      await this.server.close();
      await this.fastServer?.close();
      throw err;
    }
    this.unsubscribeDispatch = this.store.onDispatch((topic, queueId, queueOffset, tagsCode) =>
      this.pullHold.notifyMessageArriving(topic, queueId, queueOffset + 1, tagsCode),
    );
    this.config.startAcceptSendRequestTimeStamp ||= Date.now();
    this.server.setNotServing(undefined);
    this.fastServer?.setNotServing(undefined);
    this.started = true;

    this.pullHold.start();
    this.transactions.init();
    if (this.storeConfig.brokerRole !== 'SLAVE') {
      this.schedule.start();
      this.addService('transaction-check', this.config.transactionCheckInterval, () =>
        this.transactions.check(),
      );
    }
    const housekeeping = this.options.housekeepingIntervalMs ?? 10_000;
    this.addService('client-housekeeping', housekeeping, () => {
      this.consumers.scanNotActive();
      this.producers.scanNotActive();
    });
    this.addService('consumer-offset-flush', this.config.flushConsumerOffsetInterval, () =>
      this.offsets.flushIfDirty(),
    );
    this.addService('stats-sample', 10_000, () => this.stats.sample());
    const period = Math.max(10_000, Math.min(this.config.registerNameServerPeriod, 60_000));
    this.addService('register-broker', period, () => this.registerBrokerAll().then(() => undefined), 10_000);
    await this.registerBrokerAll();
  }

  private async startFastPort(): Promise<void> {
    const d = new RequestDispatcher(this.log);
    registerBrokerProcessors(d, this, { fastPort: true });
    const fast = new RemotingServer({
      port: this.serverConfig.listenPort - 2,
      host: this.serverConfig.bindAddress,
      dispatcher: d,
      log: this.log.child({ part: 'remoting-vip' }),
      idleTimeoutMs: this.serverConfig.serverChannelMaxIdleTimeSeconds * 1000,
    });
    fast.setNotServing('[REJECTREQUEST]system busy, broker is starting');
    fast.on('disconnect', (channel) => this.onChannelClosed(channel));
    try {
      await fast.start();
      this.fastServer = fast;
    } catch (err) {
      // Old clients use the VIP port; a busy one must not stop the broker (the seeds' configs
      // place brokers two ports apart on one host).
      this.log.warn(
        { port: this.serverConfig.listenPort - 2, err: errorMessage(err) },
        'VIP port not available, serving the main port only',
      );
    }
  }

  private addService(
    name: string,
    intervalMs: number,
    fn: () => Promise<void> | void,
    initialDelayMs = intervalMs,
  ): void {
    const s = new PeriodicTask(name, intervalMs, this.log, fn);
    s.start(initialDelayMs);
    this.services.push(s);
  }

  /** Registers with every NameServer; returns each answer. Never throws. */
  async registerBrokerAll(): Promise<RegisterResult[]> {
    const namesrvs = this.namesrvAddrs();
    if (namesrvs.length === 0 || !this.storeRef) return [];
    const results = await this.outer.registerBrokerAll(
      namesrvs,
      this.identity(),
      this.topicsForRegistration(),
      this.config.compressedRegister,
      this.config.registerBrokerTimeoutMills,
    );
    this.lastRegistration = results;
    for (const r of results) {
      if (r.ok && r.orderTopics && r.orderTopics.size > 0) this.topics.updateOrderTopics(r.orderTopics);
    }
    return results;
  }

  /** Topic configs as registered: the broker permission caps every topic's permission. */
  private topicsForRegistration() {
    const w = this.topics.wrapper();
    const cap = this.config.brokerPermission;
    if ((cap & 6) !== 6) {
      for (const [name, tc] of w.topicConfigTable)
        w.topicConfigTable.set(name, { ...tc, perm: tc.perm & cap });
    }
    return w;
  }

  /**
   * Puts a message into the store, parking delayed ones (DELAY level > 0, not prepared) in
   * SCHEDULE_TOPIC_XXXX queue level-1 with their real topic and queue kept as properties.
   */
  putMessage(msg: MessageToStore): Promise<PutMessageResult> {
    const tranType = transactionValue(msg.sysFlag);
    const level = delayLevelOf(msg.properties);
    if (
      level > 0 &&
      (tranType === MessageSysFlag.TRANSACTION_NOT_TYPE ||
        tranType === MessageSysFlag.TRANSACTION_COMMIT_TYPE)
    ) {
      const capped = Math.min(level, this.schedule.maxDelayLevel);
      let props = msg.properties;
      if (capped !== level) {
        props = appendProperty(
          removeProperty(props, MessageProperty.DELAY_TIME_LEVEL),
          MessageProperty.DELAY_TIME_LEVEL,
          String(capped),
        );
      }
      props = appendProperty(props, MessageProperty.REAL_TOPIC, msg.topic);
      props = appendProperty(props, MessageProperty.REAL_QUEUE_ID, String(msg.queueId));
      return this.store.putMessage({
        ...msg,
        topic: SystemTopic.SCHEDULE_TOPIC,
        queueId: capped - 1,
        properties: props,
      });
    }
    return this.store.putMessage(msg);
  }

  /**
   * Asks one producer of `group` about a half message (CHECK_TRANSACTION_STATE, oneway); the body
   * is the message as it will be committed (real topic and queue). False when none is online.
   */
  checkTransactionState(group: string, half: MessageExt): boolean {
    const channel = this.producers.availableChannel(group);
    if (!channel) return false;
    const uniq = half.properties.get(MessageProperty.UNIQ_CLIENT_MESSAGE_ID_KEYIDX);
    const asReal: MessageExt = {
      ...half,
      topic: half.properties.get(MessageProperty.REAL_TOPIC) ?? half.topic,
      queueId: Number(half.properties.get(MessageProperty.REAL_QUEUE_ID) ?? half.queueId),
    };
    return this.server.invokeOneway(
      channel,
      createRequest(RequestCode.CHECK_TRANSACTION_STATE, {
        extFields: CheckTransactionStateRequestHeader.encode({
          tranStateTableOffset: half.queueOffset,
          commitLogOffset: half.commitLogOffset,
          msgId: uniq,
          transactionId: uniq,
          offsetMsgId: half.msgId,
        }),
        body: encodeMessageExt(asReal, encodeProperties),
      }),
    );
  }

  /**
   * Sends a request to a client on its own connection and waits for the answer (upstream's
   * Broker2Client). The answer comes back to whichever server accepted that connection (main or
   * VIP port), so the call goes through that one.
   */
  callClient(channel: Channel, request: RemotingCommand, timeoutMs: number): Promise<RemotingCommand> {
    const owner = this.fastServer?.channels.has(channel) ? this.fastServer : this.server;
    return owner.invoke(channel, request, timeoutMs);
  }

  /** Sends a oneway request to a client; false when its connection is closed. */
  notifyClient(channel: Channel, request: RemotingCommand): boolean {
    return this.server.invokeOneway(channel, request);
  }

  private notifyConsumerIdsChanged(group: ConsumerGroupInfo): void {
    for (const ch of group.channels.keys()) {
      this.server.invokeOneway(
        ch,
        createRequest(RequestCode.NOTIFY_CONSUMER_IDS_CHANGED, {
          extFields: ConsumerGroupRequestHeader.encode({ consumerGroup: group.groupName }),
        }),
      );
    }
  }

  private onChannelClosed(channel: Parameters<ConsumerManager['unregister']>[1]): void {
    this.producers.onChannelClosed(channel);
    this.consumers.onChannelClosed(
      channel,
      (group) =>
        this.groups.get(group)?.notifyConsumerIdsChangedEnable ?? this.config.notifyConsumerIdsChangedEnable,
    );
  }

  /** Everything GET_BROKER_RUNTIME_INFO reports. */
  runtimeInfo(): Record<string, string> {
    const info = this.storeRef ? this.store.getRuntimeInfo() : {};
    info.brokerVersionDesc = 'V4_9_8';
    info.brokerVersion = '409';
    info.msgGetTotalTodayNow = String(this.stats.getTotal);
    info.sendThreadPoolQueueSize = String(this.sendProcessor.inflightSends);
    info.sendThreadPoolQueueCapacity = String(this.config.sendThreadPoolQueueCapacity);
    info.pullThreadPoolQueueSize = String(this.pullHold.size);
    info.pullThreadPoolQueueCapacity = String(this.config.pullThreadPoolQueueCapacity);
    info.bootTimestamp = String(this.stats.bootTimestamp);
    info.runtime = `[ ${Math.floor((Date.now() - this.stats.bootTimestamp) / 1000)} s ]`;
    info.startAcceptSendRequestTimeStamp = String(this.config.startAcceptSendRequestTimeStamp);
    return info;
  }

  /** The effective configuration (GET_BROKER_CONFIG, `mqbroker -p`). */
  configEntries(): [string, string][] {
    return [
      ...this.options.brokerSchema.entries(this.config),
      ...messageStoreConfigSchema.entries(this.storeConfig),
      ...nettyServerConfigSchema.entries(this.serverConfig),
    ];
  }

  /** Applies runtime config changes (already allow-listed by the caller). */
  updateConfig(props: Map<string, string>, source: string): void {
    const unknown = this.options.brokerSchema.apply(this.config, props, source);
    if (unknown.length > 0)
      throw new RmqError(ErrorCode.CONFIG_INVALID, `${source}: unknown keys ${unknown.join(', ')}`);
    this.log.info({ keys: [...props.keys()], source }, 'broker config updated');
    if (props.has('brokerPermission')) void this.registerBrokerAll();
  }

  /** delayOffset.json content for GET_ALL_DELAY_OFFSET. */
  delayOffsetsJson(): string {
    return this.schedule.encodeTable();
  }

  async shutdown(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.server.setNotServing('[REJECTREQUEST]system busy, broker is shutting down');
    this.fastServer?.setNotServing('[REJECTREQUEST]system busy, broker is shutting down');
    for (const s of this.services) await s.stop();
    await this.schedule.stop();
    await this.pullHold.stop();
    this.pullHold.wakeAll();
    await this.outer.unregisterBrokerAll(
      this.namesrvAddrs(),
      this.identity(),
      this.config.registerBrokerTimeoutMills,
    );
    this.unsubscribeDispatch?.();
    await this.store.shutdown();
    await this.offsets.flush();
    await this.topics.flush();
    await this.groups.flush();
    this.client.close();
    await this.fastServer?.close();
    await this.server.close();
    this.log.info({ broker: this.config.brokerName }, 'broker stopped');
  }
}
