/**
 * The broker's counters (upstream BrokerStatsManager, reduced to what is counted here): totals for
 * GET_BROKER_RUNTIME_INFO, the consume TPS of GET_CONSUME_STATS, and windowed items by upstream's
 * stats names and keys for VIEW_BROKER_STATS_DATA:
 *   TOPIC_PUT_NUMS / TOPIC_PUT_SIZE   key `topic`        (messages and bytes stored by SEND)
 *   GROUP_GET_NUMS / GROUP_GET_SIZE   key `topic@group`  (messages and bytes served by PULL)
 *   BROKER_PUT_NUMS / BROKER_GET_NUMS key the cluster name
 * Items are created on first use, so a name/key never counted is "not exist", as upstream.
 */
import { StatsItem, type StatsWindowData } from './stats-item.js';

export const StatsName = {
  TOPIC_PUT_NUMS: 'TOPIC_PUT_NUMS',
  TOPIC_PUT_SIZE: 'TOPIC_PUT_SIZE',
  GROUP_GET_NUMS: 'GROUP_GET_NUMS',
  GROUP_GET_SIZE: 'GROUP_GET_SIZE',
  BROKER_PUT_NUMS: 'BROKER_PUT_NUMS',
  BROKER_GET_NUMS: 'BROKER_GET_NUMS',
} as const;
export type StatsNameValue = (typeof StatsName)[keyof typeof StatsName];

export interface BrokerStatsData {
  statsMinute: StatsWindowData;
  statsHour: StatsWindowData;
  statsDay: StatsWindowData;
}

/** Key of the broker-wide items; the request names them by cluster name. */
const BROKER_KEY = '';

export class BrokerStats {
  private readonly sets: Record<StatsNameValue, Map<string, StatsItem>> = {
    TOPIC_PUT_NUMS: new Map(),
    TOPIC_PUT_SIZE: new Map(),
    GROUP_GET_NUMS: new Map(),
    GROUP_GET_SIZE: new Map(),
    BROKER_PUT_NUMS: new Map(),
    BROKER_GET_NUMS: new Map(),
  };
  getTotal = 0;
  getBytes = 0;
  readonly bootTimestamp = Date.now();

  /** A SEND stored `messages` messages (a batch counts as one put) of `bytes` on `topic`. */
  put(topic: string, messages: number, bytes: number): void {
    this.item(StatsName.TOPIC_PUT_NUMS, topic).add(messages, 1);
    this.item(StatsName.TOPIC_PUT_SIZE, topic).add(bytes, 1);
    this.item(StatsName.BROKER_PUT_NUMS, BROKER_KEY).add(messages, 0);
  }

  pulled(group: string, topic: string, messages: number, bytes: number): void {
    this.getTotal += messages;
    this.getBytes += bytes;
    const key = `${topic}@${group}`;
    this.item(StatsName.GROUP_GET_NUMS, key).add(messages, 1);
    this.item(StatsName.GROUP_GET_SIZE, key).add(bytes, 1);
    this.item(StatsName.BROKER_GET_NUMS, BROKER_KEY).add(messages, 0);
  }

  /** Messages per second served to `group` on `topic` over the last minute (upstream tpsGroupGetNums). */
  consumeTps(group: string, topic: string): number {
    return this.sets.GROUP_GET_NUMS.get(`${topic}@${group}`)?.inMinute().tps ?? 0;
  }

  /**
   * The minute, hour and day figures of one item, or undefined when the name is unknown or the
   * key was never counted. Broker-wide names are keyed by `clusterName`.
   */
  view(
    statsName: string,
    statsKey: string,
    clusterName: string,
    now = Date.now(),
  ): BrokerStatsData | undefined {
    if (!Object.hasOwn(this.sets, statsName)) return undefined;
    const set = this.sets[statsName as StatsNameValue];
    const brokerWide = statsName === StatsName.BROKER_PUT_NUMS || statsName === StatsName.BROKER_GET_NUMS;
    if (brokerWide && statsKey !== clusterName) return undefined;
    const it = set.get(brokerWide ? BROKER_KEY : statsKey);
    if (!it) return undefined;
    return { statsMinute: it.inMinute(now), statsHour: it.inHour(now), statsDay: it.inDay(now) };
  }

  /** Takes every item's snapshots (called every 10 s). */
  sample(now = Date.now()): void {
    for (const set of Object.values(this.sets)) for (const it of set.values()) it.sample(now);
  }

  private item(name: StatsNameValue, key: string): StatsItem {
    const set = this.sets[name];
    let it = set.get(key);
    if (!it) {
      it = new StatsItem();
      set.set(key, it);
    }
    return it;
  }
}
