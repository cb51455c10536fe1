/**
 * Online consumers by group, as told by HEART_BEAT: each group's connections (client id,
 * language, version, last heartbeat) and its subscriptions. A change of a group's members or
 * subscriptions is reported through `onGroupChanged` (the broker then sends
 * NOTIFY_CONSUMER_IDS_CHANGED to the group). Connections silent for 120 s are dropped.
 */
import type { Logger } from '../../common/logger.js';
import type { Channel } from '../../remoting/channel.js';
import type {
  ConsumeFromWhere,
  ConsumeType,
  MessageModel,
  SubscriptionData,
} from '../../protocol/heartbeat.js';

export interface ClientChannelInfo {
  channel: Channel;
  clientId: string;
  language: string;
  version: number;
  lastUpdate: number;
}

export class ConsumerGroupInfo {
  readonly channels = new Map<Channel, ClientChannelInfo>();
  readonly subscriptions = new Map<string, SubscriptionData>();
  lastUpdate = Date.now();

  constructor(
    readonly groupName: string,
    public consumeType: ConsumeType,
    public messageModel: MessageModel,
    public consumeFromWhere: ConsumeFromWhere,
  ) {}

  clientIds(): string[] {
    return [...this.channels.values()].map((c) => c.clientId);
  }

  findChannel(clientId: string): ClientChannelInfo | undefined {
    for (const info of this.channels.values()) if (info.clientId === clientId) return info;
    return undefined;
  }

  /** Returns true when a new connection joined (or one changed its client id). */
  updateChannel(info: ClientChannelInfo): boolean {
    const old = this.channels.get(info.channel);
    this.channels.set(info.channel, info);
    this.lastUpdate = info.lastUpdate;
    return !old || old.clientId !== info.clientId;
  }

  /** Replaces the subscriptions with `subs`; returns true when anything was added or removed. */
  updateSubscriptions(subs: SubscriptionData[]): boolean {
    let changed = false;
    const topics = new Set<string>();
    for (const sub of subs) {
      topics.add(sub.topic);
      const old = this.subscriptions.get(sub.topic);
      if (!old) {
        this.subscriptions.set(sub.topic, sub);
        changed = true;
      } else if (sub.subVersion > old.subVersion || old.subString !== sub.subString) {
        this.subscriptions.set(sub.topic, sub);
      }
    }
    for (const topic of [...this.subscriptions.keys()]) {
      if (!topics.has(topic)) {
        this.subscriptions.delete(topic);
        changed = true;
      }
    }
    this.lastUpdate = Date.now();
    return changed;
  }
}

export interface ConsumerManagerOptions {
  log: Logger;
  onGroupChanged: (group: ConsumerGroupInfo) => void;
  channelExpiredMs?: number;
}

export class ConsumerManager {
  private readonly groups = new Map<string, ConsumerGroupInfo>();

  constructor(private readonly options: ConsumerManagerOptions) {}

  get(group: string): ConsumerGroupInfo | undefined {
    return this.groups.get(group);
  }

  groupNames(): string[] {
    return [...this.groups.keys()];
  }

  /** Registers a heartbeat; returns true when the group's members or subscriptions changed. */
  register(
    group: string,
    info: ClientChannelInfo,
    consumeType: ConsumeType,
    messageModel: MessageModel,
    consumeFromWhere: ConsumeFromWhere,
    subs: SubscriptionData[],
    notify: boolean,
  ): boolean {
    let g = this.groups.get(group);
    if (!g) {
      g = new ConsumerGroupInfo(group, consumeType, messageModel, consumeFromWhere);
      this.groups.set(group, g);
    }
    g.consumeType = consumeType;
    g.messageModel = messageModel;
    g.consumeFromWhere = consumeFromWhere;
    const channelChanged = g.updateChannel(info);
    const subsChanged = g.updateSubscriptions(subs);
    if ((channelChanged || subsChanged) && notify) this.options.onGroupChanged(g);
    return channelChanged || subsChanged;
  }

  unregister(group: string, channel: Channel, notify: boolean): void {
    const g = this.groups.get(group);
    if (!g?.channels.delete(channel)) return;
    this.options.log.info({ group, peer: channel.remoteAddress }, 'consumer unregistered');
    if (g.channels.size === 0) this.groups.delete(group);
    else if (notify) this.options.onGroupChanged(g);
  }

  /** A connection closed: remove it from every group it was in. */
  onChannelClosed(channel: Channel, notify: (group: string) => boolean): void {
    for (const [name, g] of [...this.groups]) {
      if (!g.channels.delete(channel)) continue;
      if (g.channels.size === 0) this.groups.delete(name);
      else if (notify(name)) this.options.onGroupChanged(g);
    }
  }

  /** Drops connections silent too long, closing them. */
  scanNotActive(now = Date.now()): void {
    const limit = this.options.channelExpiredMs ?? 120_000;
    for (const g of this.groups.values()) {
      for (const info of [...g.channels.values()]) {
        if (now - info.lastUpdate > limit) {
          this.options.log.warn({ group: g.groupName, clientId: info.clientId }, 'consumer channel expired');
          info.channel.close();
        }
      }
    }
  }

  /** Groups subscribed to `topic`. */
  groupsOfTopic(topic: string): string[] {
    const out: string[] = [];
    for (const [name, g] of this.groups) if (g.subscriptions.has(topic)) out.push(name);
    return out;
  }
}
