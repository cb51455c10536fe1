/**
 * What a consumer of a group opens when it starts, push or lite pull alike: where its offsets are
 * kept (the broker in CLUSTERING mode, a local file in BROADCASTING mode, as upstream) and the
 * rebalance that assigns it queues of its subscribed topics.
 */
import type { Logger } from '../../common/logger.js';
import { buildSubscriptionData } from '../../protocol/heartbeat.js';
import type { MQClientInstance } from '../client-instance.js';
import type { ConsumerConfig } from './consumer-options.js';
import { LocalFileOffsetStore, localOffsetFile } from './local-file-offset-store.js';
import { RemoteBrokerOffsetStore, type OffsetStore } from './offset-store.js';
import { RebalanceImpl, type RebalanceHost } from './rebalance-impl.js';

export interface ConsumerState {
  offsetStore: OffsetStore;
  rebalance: RebalanceImpl;
}

/** Loads the group's offsets and sets up its rebalance with `subscriptions` (topic -> expression). */
export async function openConsumerState(
  instance: MQClientInstance,
  group: string,
  config: ConsumerConfig,
  subscriptions: ReadonlyMap<string, string>,
  host: RebalanceHost,
  log: Logger,
): Promise<ConsumerState> {
  const offsetStore: OffsetStore =
    config.messageModel === 'BROADCASTING'
      ? new LocalFileOffsetStore(localOffsetFile(config.offsetStoreDir, instance.clientId, group), log)
      : new RemoteBrokerOffsetStore(instance, group, log);
  await offsetStore.load();
  const rebalance = new RebalanceImpl(
    instance,
    group,
    config.messageModel,
    config.allocateMessageQueueStrategy,
    host,
    log,
  );
  for (const [topic, expr] of subscriptions)
    rebalance.subscriptionInner.set(topic, buildSubscriptionData(topic, expr));
  return { offsetStore, rebalance };
}
