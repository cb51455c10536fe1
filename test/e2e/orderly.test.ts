import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../helpers/wait.js';
import { createTopic, startCluster, track } from './helpers/cluster.js';
import {
  ConsumeOrderlyStatus,
  Message,
  Producer,
  PushConsumer,
  selectMessageQueueByHash,
  type MessageListenerOrderly,
  type PushConsumerOptions,
} from '../../src/index.js';

interface Delivery {
  queueId: number;
  offset: number;
  body: string;
  who: string;
  reconsumeTimes: number;
}

describe('orderly consumption', async () => {
  const cluster = await startCluster();
  const producer = track(
    new Producer({
      producerGroup: 'PG_orderly',
      namesrvAddr: cluster.namesrvAddr,
      instanceName: 'orderly-p',
    }),
  );
  await producer.start();

  async function orderlyConsumer(
    group: string,
    topic: string,
    who: string,
    listener: MessageListenerOrderly,
    opts: Partial<PushConsumerOptions> = {},
  ): Promise<PushConsumer> {
    const consumer = track(
      new PushConsumer({
        consumerGroup: group,
        namesrvAddr: cluster.namesrvAddr,
        instanceName: `orderly-${who}`,
        consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
        ...opts,
      }),
    );
    consumer.subscribe(topic, '*');
    consumer.registerMessageListenerOrderly(listener);
    await consumer.start();
    return consumer;
  }

  const share = (c: PushConsumer, topic: string): number[] =>
    c
      .assignment()
      .filter((q) => q.topic === topic)
      .map((q) => q.queueId);

  /** The consumers' shares of the topic's queues are disjoint, cover all `n` and each has some. */
  const split = (consumers: PushConsumer[], topic: string, n: number): boolean => {
    const shares = consumers.map((c) => share(c, topic));
    return (
      new Set(shares.flat()).size === n && shares.flat().length === n && shares.every((s) => s.length > 0)
    );
  };

  test('strict per-queue order with two orderly consumers, a third joining and one leaving in the middle', async () => {
    const topic = 'E2E_Orderly';
    const queues = 8;
    await createTopic(cluster, topic, queues);
    const log: Delivery[] = [];
    const inCall = new Map<number, string>();
    const overlaps: string[] = [];
    const listener =
      (who: string): MessageListenerOrderly =>
      async (msgs, ctx) => {
        const q = ctx.messageQueue.queueId;
        const other = inCall.get(q);
        if (other !== undefined) overlaps.push(`queue ${q}: ${who} while ${other}`);
        inCall.set(q, who);
        await sleep(2); // some work, so two consumers on one queue would overlap
        for (const m of msgs) {
          log.push({
            queueId: q,
            offset: m.queueOffset,
            body: m.body.toString(),
            who,
            reconsumeTimes: m.reconsumeTimes,
          });
        }
        inCall.delete(q);
        return ConsumeOrderlyStatus.SUCCESS;
      };
    const group = 'CG_orderly';
    const a = await orderlyConsumer(group, topic, 'a', listener('a'));
    const b = await orderlyConsumer(group, topic, 'b', listener('b'), { consumeMessageBatchMaxSize: 3 });
    await waitFor(() => split([a, b], topic, queues), 'two consumers sharing the queues');

    let sent = 0;
    const sendOrders = async (count: number): Promise<void> => {
      for (let i = 0; i < count; i++, sent++) {
        const order = sent % 16;
        await producer.send(new Message(topic, `${order}:${sent}`), selectMessageQueueByHash, order);
      }
    };
    await sendOrders(160);
    // A third consumer joins while the first messages are being consumed.
    const joining = orderlyConsumer(group, topic, 'c', listener('c'));
    await sendOrders(160);
    const c = await joining;
    await waitFor(() => split([a, b, c], topic, queues), 'three consumers sharing the queues', 30_000);
    await sendOrders(80);
    // The first leaves while messages are still coming.
    const leaving = a.shutdown();
    await sendOrders(160);
    await leaving;
    await waitFor(() => split([b, c], topic, queues), 'the two left sharing the queues', 30_000);
    await sendOrders(80);
    await waitFor(() => log.length >= sent, `all ${sent} messages consumed`, 30_000);

    assert.deepEqual(overlaps, [], 'never two listener calls for one queue at once');
    const perQueue = new Map<number, Delivery[]>();
    for (const d of log) perQueue.set(d.queueId, [...(perQueue.get(d.queueId) ?? []), d]);
    let total = 0;
    for (const [q, ds] of perQueue) {
      assert.deepEqual(
        ds.map((d) => d.offset),
        Array.from({ length: ds.length }, (_, i) => i),
        `queue ${q}: every offset once, in order`,
      );
      total += ds.length;
    }
    assert.equal(total, sent);
    // Within an order (one queue), the sending sequence.
    for (let order = 0; order < 16; order++) {
      const seq = log.filter((d) => d.body.startsWith(`${order}:`)).map((d) => Number(d.body.split(':')[1]));
      assert.deepEqual(
        seq,
        [...seq].sort((x, y) => x - y),
        `order ${order} in sending order`,
      );
    }
    const who = new Set(log.map((d) => d.who));
    assert.deepEqual(who, new Set(['a', 'b', 'c']), 'every consumer took part');
    const handedOver = [...perQueue.values()].filter((ds) => new Set(ds.map((d) => d.who)).size > 1);
    assert.ok(handedOver.length > 0, 'some queues changed hands mid-stream');
    const committed = await cluster.admin.queryConsumerOffsets(group, topic);
    await b.shutdown();
    await c.shutdown();
    const final = await cluster.admin.queryConsumerOffsets(group, topic);
    assert.equal(
      final.reduce((n, [, o]) => n + o, 0),
      sent,
      `offsets committed for every message (before shutdown: ${committed.map(([, o]) => o).join(',')})`,
    );
  });

  test('SUSPEND retries a message in place; past maxReconsumeTimes it goes to the DLQ and the queue moves on', async () => {
    const topic = 'E2E_Orderly_Suspend';
    await createTopic(cluster, topic, 1);
    const log: Delivery[] = [];
    const group = 'CG_orderly_suspend';
    const consumer = await orderlyConsumer(
      group,
      topic,
      'suspend',
      (msgs, ctx) => {
        const m = msgs[0]!;
        const body = m.body.toString();
        log.push({ queueId: 0, offset: m.queueOffset, body, who: 'x', reconsumeTimes: m.reconsumeTimes });
        if (body === 'flaky' && m.reconsumeTimes < 1) {
          ctx.suspendCurrentQueueTimeMillis = 50;
          return ConsumeOrderlyStatus.SUSPEND_CURRENT_QUEUE_A_MOMENT;
        }
        if (body === 'poison') throw new Error('cannot handle it');
        return ConsumeOrderlyStatus.SUCCESS;
      },
      { maxReconsumeTimes: 2, suspendCurrentQueueTimeMillis: 50 },
    );
    const sentIds: string[] = [];
    for (const body of ['first', 'flaky', 'poison', 'last'])
      sentIds.push((await producer.send(new Message(topic, body, { keys: `k-${body}` }))).msgId);
    await waitFor(() => log.some((d) => d.body === 'last'), 'the last message');
    assert.deepEqual(
      log.map((d) => `${d.body}#${d.reconsumeTimes}`),
      ['first#0', 'flaky#0', 'flaky#1', 'poison#0', 'poison#1', 'poison#2', 'last#0'],
    );
    const dead = await waitFor(
      () => cluster.admin.queryMessageByUniqKey(`%DLQ%${group}`, sentIds[2]!),
      'the poison message in the DLQ',
    );
    assert.equal(dead.body.toString(), 'poison');
    assert.equal(dead.properties.get('RETRY_TOPIC'), topic);
    await consumer.shutdown();
    const committed = await cluster.admin.queryConsumerOffsets(group, topic);
    assert.deepEqual(
      committed.map(([, o]) => o),
      [4],
      'the offset is past all four',
    );
  });
});
