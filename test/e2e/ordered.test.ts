import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../helpers/wait.js';
import { createTopic, startCluster, track, collectingConsumer } from './helpers/cluster.js';
import { Message, Producer, selectMessageQueueByHash, type MessageQueueSelector } from '../../src/index.js';

describe('ordered messages', async () => {
  const cluster = await startCluster();

  test('sending by selector keeps each order in one queue and in order at the consumer', async () => {
    const topic = 'E2E_Ordered';
    await createTopic(cluster, topic, 4);
    const producer = track(new Producer({ producerGroup: 'PG_ordered', namesrvAddr: cluster.namesrvAddr }));
    await producer.start();
    const orders = 10;
    const steps = 30;
    const queueOfOrder = new Map<number, number>();
    // Interleaved: step s of every order, then step s+1 ...
    for (let s = 0; s < steps; s++) {
      for (let o = 0; o < orders; o++) {
        const r = await producer.send(
          new Message(topic, `${o}:${s}`, { keys: `order-${o}` }),
          selectMessageQueueByHash,
          o,
        );
        const q = queueOfOrder.get(o) ?? r.messageQueue.queueId;
        assert.equal(r.messageQueue.queueId, q, `order ${o} stays in one queue`);
        queueOfOrder.set(o, q);
      }
    }
    // A custom selector sees the topic's writable queues.
    const firstQueue: MessageQueueSelector<null> = (mqs) => mqs[0]!;
    const r = await producer.send(new Message(topic, 'x:0'), firstQueue, null);
    assert.equal(r.messageQueue.queueId, 0);
    await producer.shutdown();

    // One listener call at a time: each queue's messages reach it in queue order.
    const { consumer, got } = await collectingConsumer(cluster, 'CG_ordered', topic, {
      consumeThreadMax: 1,
    });
    await waitFor(() => got.length >= orders * steps + 1, 'every ordered message');
    await consumer.shutdown();
    for (let o = 0; o < orders; o++) {
      const seq = got
        .filter((m) => m.body.toString().startsWith(`${o}:`))
        .map((m) => Number(m.body.toString().split(':')[1]));
      assert.deepEqual(
        seq,
        Array.from({ length: steps }, (_, i) => i),
        `order ${o} consumed in sending order`,
      );
    }
  });
});
