/**
 * Broker behaviour the client SDK relies on, pinned down through the SDK's own calls.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTopic, startCluster, track } from './helpers/cluster.js';
import { getOrCreateClientInstance } from '../../src/client/client-instance.js';
import { PullSysFlag } from '../../src/protocol/broker-headers.js';
import { Message, Producer } from '../../src/index.js';

describe('broker contract', async () => {
  const cluster = await startCluster();
  const addr = cluster.brokers[0]!.addr;

  test('a commit piggybacked on a pull never overtakes a later UPDATE_CONSUMER_OFFSET of the same client', async () => {
    // A consumer's last pull carries its offset of that moment; the commit at shutdown comes
    // after it on the same connection and must win, or a restart re-delivers consumed messages.
    const topic = 'E2E_PiggybackOrder';
    await createTopic(cluster, topic, 1);
    const producer = track(new Producer({ producerGroup: 'PG_contract', namesrvAddr: cluster.namesrvAddr }));
    await producer.start();
    for (let i = 0; i < 20; i++) await producer.send(new Message(topic, `m${i}`));
    const api = getOrCreateClientInstance(producer.config.client).api;
    const mq = { topic, brokerName: 'broker-a', queueId: 0 };
    const group = 'CG_piggyback';
    for (let round = 0; round < 5; round++) {
      const pull = api.pullMessage(
        addr,
        {
          consumerGroup: group,
          topic,
          queueId: 0,
          queueOffset: 0,
          maxMsgNums: 32,
          sysFlag: PullSysFlag.COMMIT_OFFSET | PullSysFlag.SUBSCRIPTION,
          commitOffset: 5,
          suspendTimeoutMillis: 0,
          subscription: '*',
          subVersion: 0,
          expressionType: 'TAG',
        },
        5000,
      );
      const update = api.updateConsumerOffset(addr, group, mq, 20, false);
      await Promise.all([pull, update]);
      assert.equal(await api.queryConsumerOffset(addr, group, mq), 20, `round ${round}`);
    }
    await producer.shutdown();
  });
});
