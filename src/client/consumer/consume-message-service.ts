/**
 * The seam between the PushConsumer and the service that runs its listener (upstream's
 * ConsumeMessageService): concurrent (consume-concurrently-service.ts) or orderly
 * (consume-orderly-service.ts). The consumer's pull loop puts pulled messages into the queue's
 * ProcessQueue and submits them; the service calls the listener, commits offsets into the
 * host's offset store and hands failed messages back through the host.
 */
import { MessageProperty, RETRY_GROUP_TOPIC_PREFIX } from '../../common/message/message-const.js';
import type { MessageModel } from '../../protocol/heartbeat.js';
import type { MessageExt } from '../message/message-ext.js';
import type { MessageQueue } from '../message/message-queue.js';
import type { OffsetStore } from './offset-store.js';
import type { ProcessQueue } from './process-queue.js';

/** What a consume service needs from its consumer. */
export interface ConsumeServiceHost {
  readonly group: string;
  readonly messageModel: MessageModel;
  readonly offsetStore: OffsetStore;
  /**
   * Hands a failed message back to the broker for a later retry (delayLevel 0: the broker's
   * schedule, n: level n, negative: straight to the dead-letter queue); false if neither the
   * broker nor the fallback send took it.
   */
  sendMessageBack(msg: MessageExt, delayLevel: number): Promise<boolean>;
}

export interface ConsumeMessageService {
  /** Starts background work (the orderly service's lock renewal). */
  start(): void;
  /** Messages just put into `pq` by the pull loop. */
  submit(msgs: MessageExt[], pq: ProcessQueue, mq: MessageQueue): void;
  /** Stops taking work; waits up to `awaitMs` for listener calls in progress. */
  shutdown(awaitMs: number): Promise<void>;
}

/** A message re-delivered through %RETRY%<group> shows its original topic again. */
export function resetRetryTopic(msg: MessageExt, group: string): void {
  const retryTopic = msg.properties.get(MessageProperty.RETRY_TOPIC);
  if (retryTopic && msg.topic === RETRY_GROUP_TOPIC_PREFIX + group) msg.topic = retryTopic;
}

/** Before a listener call: original topics back (CLUSTERING) and the consume start time. */
export function prepareForListener(msgs: readonly MessageExt[], host: ConsumeServiceHost): void {
  const now = String(Date.now());
  for (const m of msgs) {
    if (host.messageModel === 'CLUSTERING') resetRetryTopic(m, host.group);
    m.properties.set(MessageProperty.CONSUME_START_TIMESTAMP, now);
  }
}
