/**
 * Latency fault tolerance (upstream's MQFaultStrategy + LatencyFaultToleranceImpl): every send
 * records how long its broker took; a broker that failed, or answered slower than a step of
 * `latencyMax`, is avoided for the matching `notAvailableDuration`. Queue choice takes the next
 * round-robin queue on an available broker; when none is available it picks one of the better
 * half of the failed brokers so sends keep trying somewhere.
 *
 * Upstream leaves this off by default (sendLatencyFaultEnable=false, which only avoids the last
 * failed broker on a retry); we turn it on by default because a dead broker otherwise costs one
 * failed attempt per send until the route refresh drops it.
 */
import type { MessageQueue } from '../message/message-queue.js';
import type { TopicPublishInfo } from './topic-publish-info.js';

const LATENCY_MAX = [50, 100, 550, 1000, 2000, 3000, 15000];
const NOT_AVAILABLE_DURATION = [0, 0, 30000, 60000, 120000, 180000, 600000];
/** What a failed call counts as: a latency past the last step, i.e. the longest pause. */
const ISOLATION_LATENCY = 30000;

interface FaultItem {
  name: string;
  currentLatency: number;
  /** Available again from this time (ms since epoch). */
  startTimestamp: number;
}

export class MQFaultStrategy {
  private readonly items = new Map<string, FaultItem>();
  private worst = 0;

  constructor(
    public enabled: boolean,
    private readonly now: () => number = Date.now,
  ) {}

  isAvailable(brokerName: string): boolean {
    const item = this.items.get(brokerName);
    return !item || this.now() >= item.startTimestamp;
  }

  /** Records a call to `brokerName`; `isolation` = it failed. */
  updateFaultItem(brokerName: string, latencyMs: number, isolation: boolean): void {
    if (!this.enabled) return;
    const duration = notAvailableDuration(isolation ? ISOLATION_LATENCY : latencyMs);
    if (duration === 0 && !this.items.has(brokerName)) return;
    this.items.set(brokerName, {
      name: brokerName,
      currentLatency: latencyMs,
      startTimestamp: this.now() + duration,
    });
  }

  selectOneMessageQueue(info: TopicPublishInfo, lastBrokerName: string | undefined): MessageQueue {
    if (!this.enabled) return info.selectOneMessageQueue(lastBrokerName);
    const list = info.messageQueueList;
    for (let i = 0; i < list.length; i++) {
      const mq = list[info.nextIndex() % list.length]!;
      if (this.isAvailable(mq.brokerName)) return mq;
    }
    const notBest = this.pickOneAtLeast();
    if (notBest !== undefined) {
      const writeQueueNums = info.writeQueueNumsOf(notBest);
      if (writeQueueNums > 0) {
        const mq = info.selectOneMessageQueue();
        return { topic: mq.topic, brokerName: notBest, queueId: info.nextIndex() % writeQueueNums };
      }
      this.items.delete(notBest);
    }
    return info.selectOneMessageQueue();
  }

  /** One of the better half of the recorded brokers (available first, then lower latency). */
  private pickOneAtLeast(): string | undefined {
    if (this.items.size === 0) return undefined;
    const now = this.now();
    const sorted = [...this.items.values()].sort((a, b) => {
      const aa = now >= a.startTimestamp;
      const ba = now >= b.startTimestamp;
      if (aa !== ba) return aa ? -1 : 1;
      if (a.currentLatency !== b.currentLatency) return a.currentLatency - b.currentLatency;
      return a.startTimestamp - b.startTimestamp;
    });
    const half = Math.floor(sorted.length / 2);
    if (half <= 0) return sorted[0]!.name;
    this.worst = (this.worst + 1) & 0x3fffffff;
    return sorted[this.worst % half]!.name;
  }
}

export function notAvailableDuration(latencyMs: number): number {
  for (let i = LATENCY_MAX.length - 1; i >= 0; i--) {
    if (latencyMs >= LATENCY_MAX[i]!) return NOT_AVAILABLE_DURATION[i]!;
  }
  return 0;
}
