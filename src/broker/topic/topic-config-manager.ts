/**
 * The broker's topics: the system topics every broker has, topics created by admins or
 * auto-created on first send, persisted to config/topics.json as upstream's
 * TopicConfigSerializeWrapper ({"topicConfigTable":{...},"dataVersion":{...}}).
 * Every change bumps the data version, which tells NameServers to take the new queue data.
 */
import type { Logger } from '../../common/logger.js';
import { RETRY_GROUP_TOPIC_PREFIX, SystemTopic } from '../../common/message/message-const.js';
import { parseJson, writeJson } from '../../protocol/fastjson.js';
import {
  PermName,
  isInherited,
  newDataVersion,
  newTopicConfig,
  nextDataVersion,
  topicConfigWrapperFromJson,
  topicConfigWrapperToJson,
  type DataVersion,
  type TopicConfig,
  type TopicConfigSerializeWrapper,
} from '../../protocol/topic-config.js';
import { ConfigFileManager } from '../config-file-manager.js';
import type { BrokerConfig } from '../broker-config.js';

export const SCHEDULE_TOPIC_QUEUE_NUM = 18;
export const REPLY_TOPIC_POSTFIX = 'REPLY_TOPIC';

export class TopicConfigManager extends ConfigFileManager {
  private readonly table = new Map<string, TopicConfig>();
  private version: DataVersion = newDataVersion();
  /** This broker's own system topics (cluster name, broker name, reply topic, trace topic). */
  readonly systemTopics = new Set<string>();
  /** Called after a topic is created or changed so the broker re-registers at once. */
  onChange: () => void = () => {};

  constructor(
    path: string,
    private readonly config: BrokerConfig,
    log: Logger,
  ) {
    super(path, log);
    this.addSystemTopics();
  }

  private put(tc: TopicConfig, system = false): void {
    this.table.set(tc.topicName, tc);
    if (system) this.systemTopics.add(tc.topicName);
  }

  private addSystemTopics(): void {
    const c = this.config;
    this.put(newTopicConfig(SystemTopic.SELF_TEST_TOPIC, { readQueueNums: 1, writeQueueNums: 1 }), true);
    if (c.autoCreateTopicEnable) {
      this.put(
        newTopicConfig(SystemTopic.AUTO_CREATE_TOPIC_KEY, {
          readQueueNums: c.defaultTopicQueueNums,
          writeQueueNums: c.defaultTopicQueueNums,
          perm: PermName.INHERIT | PermName.READ | PermName.WRITE,
        }),
        true,
      );
    }
    this.put(
      newTopicConfig(SystemTopic.BENCHMARK_TOPIC, { readQueueNums: 1024, writeQueueNums: 1024 }),
      true,
    );
    this.put(
      newTopicConfig(c.brokerClusterName, {
        perm: PermName.INHERIT | (c.clusterTopicEnable ? PermName.READ | PermName.WRITE : 0),
      }),
      true,
    );
    this.put(
      newTopicConfig(c.brokerName, {
        readQueueNums: 1,
        writeQueueNums: 1,
        perm: PermName.INHERIT | (c.brokerTopicEnable ? PermName.READ | PermName.WRITE : 0),
      }),
      true,
    );
    this.put(newTopicConfig(SystemTopic.OFFSET_MOVED_EVENT, { readQueueNums: 1, writeQueueNums: 1 }), true);
    this.put(
      newTopicConfig(SystemTopic.SCHEDULE_TOPIC, {
        readQueueNums: SCHEDULE_TOPIC_QUEUE_NUM,
        writeQueueNums: SCHEDULE_TOPIC_QUEUE_NUM,
      }),
      true,
    );
    if (c.traceTopicEnable) {
      this.put(newTopicConfig(c.msgTraceTopicName, { readQueueNums: 1, writeQueueNums: 1 }), true);
    }
    this.put(
      newTopicConfig(`${c.brokerClusterName}_${REPLY_TOPIC_POSTFIX}`, {
        readQueueNums: 1,
        writeQueueNums: 1,
      }),
      true,
    );
  }

  protected encode(): string {
    return writeJson(topicConfigWrapperToJson(this.wrapper()), { pretty: true });
  }

  protected decode(text: string): void {
    const w = topicConfigWrapperFromJson(parseJson(text));
    for (const tc of w.topicConfigTable.values()) this.table.set(tc.topicName, tc);
    this.version = w.dataVersion;
  }

  select(topic: string): TopicConfig | undefined {
    return this.table.get(topic);
  }

  has(topic: string): boolean {
    return this.table.has(topic);
  }

  get dataVersion(): DataVersion {
    return this.version;
  }

  wrapper(): TopicConfigSerializeWrapper {
    return { topicConfigTable: new Map(this.table), dataVersion: this.version };
  }

  all(): IterableIterator<TopicConfig> {
    return this.table.values();
  }

  private changed(): void {
    this.version = nextDataVersion(this.version);
    void this.persist();
    this.onChange();
  }

  /** Creates or replaces a topic (UPDATE_AND_CREATE_TOPIC). */
  update(tc: TopicConfig): void {
    const old = this.table.get(tc.topicName);
    this.table.set(tc.topicName, tc);
    this.log.info({ old, topic: tc }, old ? 'topic updated' : 'topic created');
    this.changed();
  }

  delete(topic: string): boolean {
    if (!this.table.delete(topic)) return false;
    this.log.info({ topic }, 'topic deleted');
    this.changed();
    return true;
  }

  /**
   * Creates `topic` on first send from the default topic (TBW102), if that topic exists and may be
   * inherited: queue count min(client's defaultTopicQueueNums, default topic's write queues).
   */
  createInSendMessage(
    topic: string,
    defaultTopic: string,
    clientDefaultQueueNums: number,
    topicSysFlag: number,
    from: string,
  ): TopicConfig | undefined {
    const existing = this.table.get(topic);
    if (existing) return existing;
    const def = this.table.get(defaultTopic);
    if (!def) {
      this.log.warn(
        { topic, defaultTopic, producer: from },
        'cannot create topic: default topic does not exist',
      );
      return undefined;
    }
    if (defaultTopic === SystemTopic.AUTO_CREATE_TOPIC_KEY && !this.config.autoCreateTopicEnable) {
      def.perm = PermName.READ | PermName.WRITE;
    }
    if (!isInherited(def.perm)) {
      this.log.warn(
        { topic, defaultTopic, perm: def.perm, producer: from },
        'cannot create topic: default topic may not be inherited',
      );
      return undefined;
    }
    const queueNums = Math.max(0, Math.min(clientDefaultQueueNums, def.writeQueueNums));
    const tc = newTopicConfig(topic, {
      readQueueNums: queueNums,
      writeQueueNums: queueNums,
      perm: def.perm & ~PermName.INHERIT,
      topicSysFlag,
      topicFilterType: def.topicFilterType,
    });
    this.table.set(topic, tc);
    this.log.info({ topic: tc, defaultTopic, producer: from }, 'topic auto-created');
    this.changed();
    return tc;
  }

  /** Creates a retry, DLQ or other internal topic if missing. */
  createIfAbsent(topic: string, queueNums: number, perm: number, topicSysFlag = 0): TopicConfig {
    const existing = this.table.get(topic);
    if (existing) return existing;
    const tc = newTopicConfig(topic, {
      readQueueNums: queueNums,
      writeQueueNums: queueNums,
      perm,
      topicSysFlag,
    });
    this.table.set(topic, tc);
    this.log.info({ topic: tc }, 'topic created');
    this.changed();
    return tc;
  }

  isOrderTopic(topic: string): boolean {
    return this.table.get(topic)?.order ?? false;
  }

  /** Marks the topics listed in the NameServer's ORDER_TOPIC_CONFIG as ordered, the rest not. */
  updateOrderTopics(orderTopics: ReadonlySet<string>): void {
    let changed = false;
    for (const tc of this.table.values()) {
      const order = orderTopics.has(tc.topicName);
      if (tc.order !== order) {
        tc.order = order;
        changed = true;
      }
    }
    if (changed) {
      this.version = nextDataVersion(this.version);
      void this.persist();
    }
  }

  isRetryTopic(topic: string): boolean {
    return topic.startsWith(RETRY_GROUP_TOPIC_PREFIX);
  }
}
