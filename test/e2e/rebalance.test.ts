import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../helpers/wait.js';
import { createTopic, offsetDir, startCluster, track } from './helpers/cluster.js';
import { localOffsetFile } from '../../src/client/consumer/local-file-offset-store.js';
import { mqKey } from '../../src/client/message/message-queue.js';
import {
  ConsumeConcurrentlyStatus,
  Message,
  Producer,
  PushConsumer,
  type MessageExt,
  type MessageQueue,
  type PushConsumerOptions,
} from '../../src/index.js';
import { existsSync, readFileSync } from 'node:fs';

describe('consumer groups', async () => {
  const cluster = await startCluster();
  const producer = track(new Producer({ producerGroup: 'PG_rebalance', namesrvAddr: cluster.namesrvAddr }));
  await producer.start();

  async function startConsumer(
    topic: string,
    instanceName: string,
    opts: Partial<PushConsumerOptions> = {},
  ): Promise<{ consumer: PushConsumer; got: MessageExt[] }> {
    const got: MessageExt[] = [];
    const consumer = track(
      new PushConsumer({
        consumerGroup: 'CG_split',
        namesrvAddr: cluster.namesrvAddr,
        instanceName,
        ...opts,
      }),
    );
    consumer.subscribe(topic, '*');
    consumer.registerMessageListener((msgs) => {
      got.push(...msgs);
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    await consumer.start();
    return { consumer, got };
  }

  const topicQueues = (c: PushConsumer, topic: string): string[] =>
    c
      .assignment()
      .filter((q) => q.topic === topic)
      .map(mqKey);

  /** True when the consumers' shares of `topic` are disjoint and cover its `n` queues. */
  function split(consumers: PushConsumer[], topic: string, n: number, eachAtLeast: number): boolean {
    const shares = consumers.map((c) => topicQueues(c, topic));
    const all = new Set(shares.flat());
    return all.size === n && shares.flat().length === n && shares.every((s) => s.length >= eachAtLeast);
  }

  async function sendAll(topic: string, from: number, count: number): Promise<Map<string, MessageQueue>> {
    const sent = new Map<string, MessageQueue>();
    for (let i = from; i < from + count; i++) {
      const r = await producer.send(new Message(topic, `m${i}`));
      sent.set(r.msgId, r.messageQueue);
    }
    return sent;
  }

  test('two consumers split the queues and together get every message; a third joins and the queues rebalance', async () => {
    const topic = 'E2E_Split';
    await createTopic(cluster, topic, 6);
    const a = await startConsumer(topic, 'split-a');
    const b = await startConsumer(topic, 'split-b');
    await waitFor(() => split([a.consumer, b.consumer], topic, 6, 3), 'two consumers with 3 queues each');

    const first = await sendAll(topic, 0, 600);
    await waitFor(() => a.got.length + b.got.length >= 600, '600 messages between the two');
    for (const [who, { consumer, got }] of Object.entries({ a, b })) {
      const mine = new Set(topicQueues(consumer, topic));
      assert.ok(got.length > 0, `${who} consumed some`);
      for (const m of got)
        assert.ok(
          mine.has(mqKey({ topic, brokerName: m.brokerName, queueId: m.queueId })),
          `${who} only from its queues`,
        );
    }
    const ids = [...a.got, ...b.got].map((m) => m.msgId);
    assert.equal(new Set(ids).size, 600, 'no message twice');
    assert.deepEqual(new Set(ids), new Set(first.keys()), 'together every message');

    const c = await startConsumer(topic, 'split-c');
    await waitFor(
      () => split([a.consumer, b.consumer, c.consumer], topic, 6, 2),
      'three consumers with 2 queues each',
    );
    const second = await sendAll(topic, 600, 600);
    const everyone = (): Set<string> => new Set([...a.got, ...b.got, ...c.got].map((m) => m.msgId));
    await waitFor(
      () => [...second.keys()].every((id) => everyone().has(id)),
      'every message of the second round',
    );
    assert.ok(
      c.got.some((m) => second.has(m.msgId)),
      'the newcomer consumed part of the second round',
    );
    for (const x of [a, b, c]) await x.consumer.shutdown();
  });

  test('broadcasting gives every consumer every message, offsets kept in a local file', async () => {
    const topic = 'E2E_Broadcast';
    await createTopic(cluster, topic, 4);
    const dir = offsetDir();
    const opts: Partial<PushConsumerOptions> = {
      consumerGroup: 'CG_broadcast',
      messageModel: 'BROADCASTING',
      offsetStoreDir: dir,
    };
    const consumers = [
      await startConsumer(topic, 'bc-1', opts),
      await startConsumer(topic, 'bc-2', opts),
      await startConsumer(topic, 'bc-3', opts),
    ];
    await waitFor(
      () => consumers.every((x) => topicQueues(x.consumer, topic).length === 4),
      'each consumer owns every queue',
    );
    const sent = await sendAll(topic, 0, 200);
    for (const x of consumers) {
      await waitFor(() => new Set(x.got.map((m) => m.msgId)).size === 200, 'all 200 at each consumer');
      assert.deepEqual(new Set(x.got.map((m) => m.msgId)), new Set(sent.keys()));
    }
    for (const x of consumers) await x.consumer.shutdown();
    const file = localOffsetFile(dir, consumers[0]!.consumer.clientId!, 'CG_broadcast');
    assert.ok(existsSync(file), 'offsets written to the local file');
    const text = readFileSync(file, 'utf8');
    const total = [...text.matchAll(/"topic":"E2E_Broadcast"\}:(\d+)/g)].reduce(
      (s, m) => s + Number(m[1]),
      0,
    );
    assert.equal(total, 200, 'committed offsets cover every message');
    // Upstream's format: MessageQueue objects as keys.
    assert.match(text, /\{"brokerName":"broker-a","queueId":\d,"topic":"E2E_Broadcast"\}:\d+/);
  });
});
