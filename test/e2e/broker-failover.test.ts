import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTopic, startCluster, track } from './helpers/cluster.js';
import { Message, Producer, SendStatus } from '../../src/index.js';

describe('two brokers, one stopped', async () => {
  const cluster = await startCluster({ brokers: 2 });
  const topic = 'E2E_Failover';
  await createTopic(cluster, topic, 4);

  // One producer with latency fault tolerance (our default), one with upstream's default (off),
  // where only the retry's "avoid the broker that just failed" rule helps.
  const tolerant = track(new Producer({ producerGroup: 'PG_failover_1', namesrvAddr: cluster.namesrvAddr }));
  const plain = track(
    new Producer({
      producerGroup: 'PG_failover_2',
      namesrvAddr: cluster.namesrvAddr,
      sendLatencyFaultEnable: false,
    }),
  );
  await tolerant.start();
  await plain.start();

  test('sends use both brokers, then retry on the one left and succeed', async () => {
    const before = new Set<string>();
    for (let i = 0; i < 16; i++) {
      for (const p of [tolerant, plain])
        before.add((await p.send(new Message(topic, `before ${i}`))).messageQueue.brokerName);
    }
    assert.deepEqual(before, new Set(['broker-a', 'broker-b']), 'both brokers in use');

    // Stopped, not deregistered from the producers' cached routes: sends to it fail to connect.
    await cluster.brokers[1]!.broker.shutdown();

    for (const p of [tolerant, plain]) {
      for (let i = 0; i < 50; i++) {
        const r = await p.send(new Message(topic, `after ${i}`));
        assert.equal(r.sendStatus, SendStatus.SEND_OK);
        assert.equal(r.messageQueue.brokerName, 'broker-a');
      }
    }
    const stats = await cluster.admin.examineTopicStats(topic);
    assert.ok(
      stats.every(([mq]) => mq.brokerName === 'broker-a'),
      'the NameServer dropped the stopped broker',
    );
  });
});
