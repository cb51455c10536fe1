import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../helpers/wait.js';
import { FAST_CLIENT, createTopic, restartBroker, startCluster, track } from './helpers/cluster.js';
import {
  ConsumeConcurrentlyStatus,
  Message,
  Producer,
  PushConsumer,
  type MessageExt,
} from '../../src/index.js';

/** Level 1 = 1 s, level 2 = 2 s, level 3 = 3 s; the rest 1 s. */
const LEVELS = { messageDelayLevel: ['1s', '2s', '3s', ...Array(15).fill('1s')].join(' ') };

describe('delayed messages', async () => {
  const cluster = await startCluster({ props: LEVELS });
  const topic = 'E2E_Delay';
  await createTopic(cluster, topic, 2);
  const producer = track(
    new Producer({
      producerGroup: 'PG_delay',
      namesrvAddr: cluster.namesrvAddr,
      instanceName: 'delay-p',
      ...FAST_CLIENT,
    }),
  );
  await producer.start();
  const got: { msg: MessageExt; at: number }[] = [];
  const consumer = track(
    new PushConsumer({
      consumerGroup: 'CG_delay',
      namesrvAddr: cluster.namesrvAddr,
      instanceName: 'delay-c',
      consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
      ...FAST_CLIENT,
    }),
  );
  consumer.subscribe(topic, '*');
  consumer.registerMessageListener((msgs) => {
    for (const msg of msgs) got.push({ msg, at: Date.now() });
    return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
  });
  await consumer.start();
  const received = (body: string) => got.filter((g) => g.msg.body.toString() === body);

  test('a message with a delay level arrives no earlier than the level, a plain one at once', async () => {
    const sentAt = Date.now();
    await producer.send(new Message(topic, 'plain'));
    const r = await producer.send(new Message(topic, 'three seconds', { delayTimeLevel: 3, tags: 'Later' }));
    await waitFor(() => received('plain').length === 1, 'the plain message');
    assert.equal(received('three seconds').length, 0, 'the delayed one is not there yet');
    const [late] = await waitFor(() => {
      const m = received('three seconds');
      return m.length > 0 ? m : undefined;
    }, 'the delayed message');
    assert.ok(late!.at - sentAt >= 3000, `arrived ${late!.at - sentAt} ms after sending; level 3 is 3 s`);
    assert.equal(late!.msg.topic, topic);
    assert.equal(late!.msg.queueId, r.messageQueue.queueId, 'in the queue it was sent to');
    assert.equal(late!.msg.msgId, r.msgId);
    assert.equal(late!.msg.tags, 'Later');
    assert.equal(late!.msg.properties.has('DELAY'), false);
  });

  test('a delayed message is delivered once after a broker restart in between, never early', async () => {
    const sentAt = Date.now();
    const r = await producer.send(new Message(topic, 'across a restart', { delayTimeLevel: 2 }));
    await restartBroker(cluster);
    const [late] = await waitFor(
      () => {
        const m = received('across a restart');
        return m.length > 0 ? m : undefined;
      },
      'the delayed message after the restart',
      20_000,
    );
    assert.ok(late!.at - sentAt >= 2000, `arrived ${late!.at - sentAt} ms after sending; level 2 is 2 s`);
    assert.equal(late!.msg.msgId, r.msgId);
    // A later plain message marks the point by which a duplicate would have shown up.
    await producer.send(new Message(topic, 'marker', { keys: 'after-restart' }));
    await waitFor(() => received('marker').length === 1, 'the marker');
    assert.equal(received('across a restart').length, 1, 'delivered once');
    const stored = (await cluster.admin.examineTopicStats(topic)).reduce((n, [, o]) => n + o.maxOffset, 0);
    assert.equal(stored, 4, 'plain, three seconds, across a restart, marker: each stored once');
  });
});
