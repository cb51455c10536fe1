/**
 * One PULL_MESSAGE for a queue and what the consumer makes of the answer (upstream's
 * PullAPIWrapper): the request goes to the node the broker last suggested (master by default),
 * found messages are decoded (pull-decoder.ts), inflated, filtered again by tag (the broker filters
 * by tag hash only, which can collide), and get MIN_OFFSET / MAX_OFFSET properties as upstream
 * adds them.
 */
import { RmqError, ErrorCode } from '../../common/errors.js';
import { PullSysFlag } from '../../protocol/broker-headers.js';
import { MASTER_ID } from '../../protocol/route-data.js';
import type { SubscriptionData } from '../../protocol/heartbeat.js';
import type { MQClientInstance } from '../client-instance.js';
import { PullStatus, type RawPullResult } from '../mq-client-api.js';
import type { MessageExt } from '../message/message-ext.js';
import { PullDecoder } from './pull-decoder.js';
import { mqKey, type MessageQueue } from '../message/message-queue.js';

export interface PullResult {
  status: PullStatus;
  nextBeginOffset: number;
  minOffset: number;
  maxOffset: number;
  msgFoundList: MessageExt[];
}

export interface PullRequestSpec {
  mq: MessageQueue;
  subscription: SubscriptionData;
  offset: number;
  maxNums: number;
  /** Commit this offset on the way (clustering push consumers); undefined = do not. */
  commitOffset: number | undefined;
  /** Long-polling hold on the broker (0 = answer at once). */
  suspendTimeoutMillis: number;
  /** Call timeout; must exceed the hold. */
  timeoutMillis: number;
  /** Send the subscription expression with the pull instead of relying on the heartbeat. */
  postSubscription: boolean;
  litePull?: boolean;
}

export class PullAPIWrapper {
  private readonly pullFromWhichNode = new Map<string, number>();
  private readonly decoder = new PullDecoder();

  constructor(
    private readonly instance: MQClientInstance,
    private readonly group: string,
  ) {}

  async pull(spec: PullRequestSpec): Promise<PullResult> {
    return this.processPullResult(spec.mq, await this.pullRaw(spec), spec.subscription);
  }

  /** The broker's answer, body still encoded: the push consumer decodes it after sending its next pull. */
  async pullRaw(spec: PullRequestSpec): Promise<RawPullResult> {
    const { mq } = spec;
    const brokerId = this.pullFromWhichNode.get(mqKey(mq)) ?? MASTER_ID;
    let found = this.instance.findBrokerAddressInSubscribe(mq.brokerName, brokerId, false);
    if (!found) {
      await this.instance.updateTopicRouteInfoFromNameServer(mq.topic);
      found = this.instance.findBrokerAddressInSubscribe(mq.brokerName, brokerId, false);
    }
    if (!found)
      throw new RmqError(ErrorCode.BROKER_NOT_FOUND, `The broker[${mq.brokerName}] not exist`, {
        retriable: true,
      });
    let sysFlag = PullSysFlag.SUSPEND * (spec.suspendTimeoutMillis > 0 ? 1 : 0);
    // A slave cannot take commits.
    if (spec.commitOffset !== undefined && !found.slave) sysFlag |= PullSysFlag.COMMIT_OFFSET;
    if (spec.postSubscription) sysFlag |= PullSysFlag.SUBSCRIPTION;
    if (spec.litePull) sysFlag |= PullSysFlag.LITE_PULL;
    const raw = await this.instance.api.pullMessage(
      found.addr,
      {
        consumerGroup: this.group,
        topic: mq.topic,
        queueId: mq.queueId,
        queueOffset: spec.offset,
        maxMsgNums: spec.maxNums,
        sysFlag,
        commitOffset: spec.commitOffset ?? 0,
        suspendTimeoutMillis: spec.suspendTimeoutMillis,
        subscription: spec.postSubscription ? spec.subscription.subString : undefined,
        subVersion: spec.subscription.subVersion,
        expressionType: spec.subscription.expressionType,
        bname: mq.brokerName,
      },
      spec.timeoutMillis,
    );
    this.pullFromWhichNode.set(mqKey(mq), raw.suggestWhichBrokerId);
    return raw;
  }

  processPullResult(mq: MessageQueue, raw: RawPullResult, sub: SubscriptionData): PullResult {
    const msgs: MessageExt[] = [];
    if (raw.status === PullStatus.FOUND && raw.body) {
      const tags = sub.tagsSet.length > 0 && !sub.classFilterMode ? new Set(sub.tagsSet) : undefined;
      this.decoder.decode(raw.body, mq.brokerName, String(raw.minOffset), String(raw.maxOffset), tags, msgs);
    }
    return {
      status: raw.status,
      nextBeginOffset: raw.nextBeginOffset,
      minOffset: raw.minOffset,
      maxOffset: raw.maxOffset,
      msgFoundList: msgs,
    };
  }
}
