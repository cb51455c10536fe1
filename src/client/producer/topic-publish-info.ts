/**
 * Where a topic can be written: its writable queues, in upstream's order (queue data sorted by
 * broker name, then queue id; only brokers with a master), or the NameServer's orderTopicConf
 * (`brokerA:4;brokerB:4`) for ordered topics. Queue choice is round robin from a random start;
 * a retry avoids the broker that just failed.
 */
import { randomInt } from 'node:crypto';
import { MASTER_ID, type TopicRouteData } from '../../protocol/route-data.js';
import { isReadable, isWriteable } from '../../protocol/topic-config.js';
import type { MessageQueue } from '../message/message-queue.js';

export class TopicPublishInfo {
  private index = randomInt(0, 1 << 30);

  constructor(
    readonly topic: string,
    readonly messageQueueList: MessageQueue[],
    readonly orderTopic: boolean,
    /** False when the queues come from the auto-create template (TBW102), not the topic's own route. */
    readonly haveTopicRouterInfo: boolean,
    readonly route: TopicRouteData | undefined,
  ) {}

  ok(): boolean {
    return this.messageQueueList.length > 0;
  }

  /** Next queue round robin. */
  nextIndex(): number {
    this.index = (this.index + 1) & 0x3fffffff;
    return this.index;
  }

  /** Round robin, skipping queues of `lastBrokerName` while another broker has one. */
  selectOneMessageQueue(lastBrokerName?: string): MessageQueue {
    const list = this.messageQueueList;
    if (lastBrokerName !== undefined) {
      for (let i = 0; i < list.length; i++) {
        const mq = list[this.nextIndex() % list.length]!;
        if (mq.brokerName !== lastBrokerName) return mq;
      }
    }
    return list[this.nextIndex() % list.length]!;
  }

  /** Write queue count of one broker (0 if it has none). */
  writeQueueNumsOf(brokerName: string): number {
    const qd = this.route?.queueDatas.find((q) => q.brokerName === brokerName);
    return qd ? qd.writeQueueNums : 0;
  }
}

export function topicRouteToPublishInfo(
  topic: string,
  route: TopicRouteData,
  haveTopicRouterInfo = true,
): TopicPublishInfo {
  const queues: MessageQueue[] = [];
  if (route.orderTopicConf) {
    for (const item of route.orderTopicConf.split(';')) {
      const [brokerName, nums] = item.split(':');
      if (!brokerName) continue;
      for (let i = 0; i < Number(nums ?? 0); i++) queues.push({ topic, brokerName, queueId: i });
    }
    return new TopicPublishInfo(topic, queues, true, haveTopicRouterInfo, route);
  }
  const qds = [...route.queueDatas].sort((a, b) =>
    a.brokerName < b.brokerName ? -1 : a.brokerName > b.brokerName ? 1 : 0,
  );
  for (const qd of qds) {
    if (!isWriteable(qd.perm)) continue;
    const bd = route.brokerDatas.find((b) => b.brokerName === qd.brokerName);
    if (!bd || !bd.brokerAddrs.has(MASTER_ID)) continue;
    for (let i = 0; i < qd.writeQueueNums; i++) queues.push({ topic, brokerName: qd.brokerName, queueId: i });
  }
  return new TopicPublishInfo(topic, queues, false, haveTopicRouterInfo, route);
}

/** The readable queues of a topic, as consumers rebalance them. */
export function topicRouteToSubscribeInfo(topic: string, route: TopicRouteData): MessageQueue[] {
  const out: MessageQueue[] = [];
  for (const qd of route.queueDatas) {
    if (!isReadable(qd.perm)) continue;
    for (let i = 0; i < qd.readQueueNums; i++) out.push({ topic, brokerName: qd.brokerName, queueId: i });
  }
  return out;
}
