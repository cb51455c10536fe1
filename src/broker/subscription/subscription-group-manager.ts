/**
 * Consumer group settings (retry queues, max reconsume times, consume enabled...), persisted to
 * config/subscriptionGroup.json as {"subscriptionGroupTable":{...},"dataVersion":{...}}.
 * Groups are auto-created on first use when autoCreateSubscriptionGroup is on.
 */
import type { Logger } from '../../common/logger.js';
import { SystemGroup } from '../../common/message/message-const.js';
import { mapEntries, parseJson, writeJson } from '../../protocol/fastjson.js';
import {
  newSubscriptionGroupConfig,
  subscriptionGroupConfigFromJson,
  type SubscriptionGroupConfig,
} from '../../protocol/admin-bodies.js';
import {
  dataVersionFromJson,
  newDataVersion,
  nextDataVersion,
  type DataVersion,
} from '../../protocol/topic-config.js';
import { ConfigFileManager } from '../config-file-manager.js';

const BUILT_IN_GROUPS = [
  SystemGroup.TOOLS_CONSUMER,
  'FILTERSRV_CONSUMER',
  'SELF_TEST_C_GROUP',
  'CID_ONS-HTTP-PROXY',
  'CID_ONSAPI_PULL',
  'CID_ONSAPI_PERMISSION',
  'CID_ONSAPI_OWNER',
];

export class SubscriptionGroupManager extends ConfigFileManager {
  private readonly table = new Map<string, SubscriptionGroupConfig>();
  private version: DataVersion = newDataVersion();

  constructor(
    path: string,
    private readonly autoCreate: () => boolean,
    log: Logger,
  ) {
    super(path, log);
    for (const g of BUILT_IN_GROUPS) {
      this.table.set(
        g,
        newSubscriptionGroupConfig(
          g,
          g === SystemGroup.TOOLS_CONSUMER ? {} : { consumeBroadcastEnable: true },
        ),
      );
    }
  }

  protected encode(): string {
    return writeJson(
      { subscriptionGroupTable: Object.fromEntries(this.table), dataVersion: this.version },
      { pretty: true },
    );
  }

  protected decode(text: string): void {
    const o = parseJson(text) as Record<string, unknown>;
    for (const [name, raw] of mapEntries(o?.subscriptionGroupTable)) {
      this.table.set(name, subscriptionGroupConfigFromJson(raw, name));
    }
    this.version = dataVersionFromJson(o?.dataVersion);
  }

  /** The group's config, auto-created when allowed; undefined when it does not exist. */
  findOrCreate(group: string): SubscriptionGroupConfig | undefined {
    const existing = this.table.get(group);
    if (existing || !this.autoCreate()) return existing;
    const created = newSubscriptionGroupConfig(group);
    this.table.set(group, created);
    this.log.info({ group }, 'subscription group auto-created');
    this.changed();
    return created;
  }

  get(group: string): SubscriptionGroupConfig | undefined {
    return this.table.get(group);
  }

  update(config: SubscriptionGroupConfig): void {
    const old = this.table.get(config.groupName);
    this.table.set(config.groupName, config);
    this.log.info({ old, config }, old ? 'subscription group updated' : 'subscription group created');
    this.changed();
  }

  delete(group: string): boolean {
    if (!this.table.delete(group)) return false;
    this.log.info({ group }, 'subscription group deleted');
    this.changed();
    return true;
  }

  all(): Map<string, SubscriptionGroupConfig> {
    return new Map(this.table);
  }

  get dataVersion(): DataVersion {
    return this.version;
  }

  private changed(): void {
    this.version = nextDataVersion(this.version);
    void this.persist();
  }
}
