/**
 * Online producers by group (from HEART_BEAT). The transaction check-back picks a connection of
 * the half message's producer group from here.
 */
import type { Logger } from '../../common/logger.js';
import type { Channel } from '../../remoting/channel.js';
import type { ClientChannelInfo } from './consumer-manager.js';

export class ProducerManager {
  private readonly groups = new Map<string, Map<Channel, ClientChannelInfo>>();
  private rotation = 0;

  constructor(
    private readonly log: Logger,
    private readonly channelExpiredMs = 120_000,
  ) {}

  register(group: string, info: ClientChannelInfo): void {
    let g = this.groups.get(group);
    if (!g) {
      g = new Map();
      this.groups.set(group, g);
    }
    if (!g.has(info.channel)) this.log.info({ group, clientId: info.clientId }, 'producer registered');
    g.set(info.channel, info);
  }

  unregister(group: string, channel: Channel): void {
    const g = this.groups.get(group);
    if (!g?.delete(channel)) return;
    if (g.size === 0) this.groups.delete(group);
  }

  onChannelClosed(channel: Channel): void {
    for (const [name, g] of [...this.groups]) {
      if (g.delete(channel) && g.size === 0) this.groups.delete(name);
    }
  }

  scanNotActive(now = Date.now()): void {
    for (const [name, g] of this.groups) {
      for (const info of [...g.values()]) {
        if (now - info.lastUpdate > this.channelExpiredMs) {
          this.log.warn({ group: name, clientId: info.clientId }, 'producer channel expired');
          info.channel.close();
        }
      }
    }
  }

  connections(group: string): ClientChannelInfo[] {
    return [...(this.groups.get(group)?.values() ?? [])];
  }

  /** A live connection of the group, rotating between them; undefined when none is online. */
  availableChannel(group: string): Channel | undefined {
    const live = this.connections(group).filter((c) => !c.channel.isClosed);
    if (live.length === 0) return undefined;
    return live[this.rotation++ % live.length]!.channel;
  }

  groupNames(): string[] {
    return [...this.groups.keys()];
  }
}
