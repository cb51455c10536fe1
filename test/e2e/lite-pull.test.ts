import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../helpers/wait.js';
import { createTopic, startCluster, track } from './helpers/cluster.js';
import { mqKey } from '../../src/client/message/message-queue.js';
import { LitePullConsumer, Message, Producer, type MessageExt } from '../../src/index.js';

describe('LitePullConsumer', async () => {
  const cluster = await startCluster();
  const producer = track(new Producer({ producerGroup: 'PG_lite', namesrvAddr: cluster.namesrvAddr }));
  await producer.start();

  async function pollUntil(c: LitePullConsumer, n: number): Promise<MessageExt[]> {
    const got: MessageExt[] = [];
    await waitFor(async () => {
      got.push(...(await c.poll(200)));
      return got.length >= n;
    }, `${n} polled messages`);
    return got;
  }

  test('subscribe: polls everything, commitSync commits what was polled', async () => {
    const topic = 'E2E_LiteSub';
    await createTopic(cluster, topic, 4);
    const sent = new Set<string>();
    for (let i = 0; i < 200; i++) {
      sent.add((await producer.send(new Message(topic, `l${i}`, { tags: i % 2 ? 'odd' : 'even' }))).msgId);
    }
    const c = track(
      new LitePullConsumer({
        consumerGroup: 'CG_lite_sub',
        namesrvAddr: cluster.namesrvAddr,
        consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
        autoCommit: false,
      }),
    );
    c.subscribe(topic, '*');
    await c.start();
    const got = await pollUntil(c, 200);
    assert.deepEqual(new Set(got.map((m) => m.msgId)), sent);
    assert.equal(got.length, 200);
    await c.commitSync();
    const committed = await cluster.admin.queryConsumerOffsets('CG_lite_sub', topic);
    assert.equal(
      committed.reduce((s, [, o]) => s + o, 0),
      200,
    );
    for (const mq of c.assignment()) assert.ok((await c.committed(mq)) >= 0);
    await c.shutdown();

    // A tag subscription of another group filters.
    const evens = track(
      new LitePullConsumer({
        consumerGroup: 'CG_lite_even',
        namesrvAddr: cluster.namesrvAddr,
        consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
      }),
    );
    evens.subscribe(topic, 'even');
    await evens.start();
    const even = await pollUntil(evens, 100);
    assert.ok(even.every((m) => m.tags === 'even'));
    await evens.shutdown();
  });

  test('assign: seek moves a queue back, auto commit commits polled offsets', async () => {
    const topic = 'E2E_LiteAssign';
    await createTopic(cluster, topic, 2);
    const mq = { topic, brokerName: 'broker-a', queueId: 1 };
    for (let i = 0; i < 50; i++) await producer.send(new Message(topic, `a${i}`), mq);
    const c = track(
      new LitePullConsumer({
        consumerGroup: 'CG_lite_assign',
        namesrvAddr: cluster.namesrvAddr,
        consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
        autoCommitIntervalMillis: 1,
      }),
    );
    c.assign([mq]);
    await c.start();
    assert.deepEqual(c.assignment().map(mqKey), [mqKey(mq)]);
    const first = await pollUntil(c, 50);
    assert.deepEqual(
      first.map((m) => m.body.toString()),
      Array.from({ length: 50 }, (_, i) => `a${i}`),
      'one queue polls in order',
    );

    await c.seek(mq, 40);
    const again = await pollUntil(c, 10);
    assert.deepEqual(
      again.map((m) => m.queueOffset),
      [40, 41, 42, 43, 44, 45, 46, 47, 48, 49],
    );
    await c.seekToBegin(mq);
    const fromStart = await pollUntil(c, 50);
    assert.equal(fromStart[0]!.queueOffset, 0);
    await assert.rejects(c.seek(mq, 51), /Seek offset illegal/);

    // Auto commit happens inside poll: one more poll commits what the last ones returned.
    await c.poll(10);
    assert.equal(await c.committed(mq), 50);
    await c.shutdown();
    const committed = await cluster.admin.queryConsumerOffsets('CG_lite_assign', topic);
    assert.equal(committed.find(([q]) => q.queueId === 1)![1], 50, 'persisted at shutdown');
  });
});
