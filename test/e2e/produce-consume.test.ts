import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { waitFor } from '../helpers/wait.js';
import { startCluster, track, createTopic, type TestCluster, collectingConsumer } from './helpers/cluster.js';
import {
  ConsumeConcurrentlyStatus,
  ErrorCode,
  Message,
  Producer,
  PushConsumer,
  RmqError,
  SendStatus,
  type MessageExt,
  type SendResult,
} from '../../src/index.js';

async function consumeAll(
  cluster: TestCluster,
  group: string,
  topic: string,
  expr: string,
  expected: number,
): Promise<MessageExt[]> {
  const { consumer, got } = await collectingConsumer(cluster, group, topic, { instanceName: group }, expr);
  try {
    await waitFor(() => got.length >= expected, `${expected} messages on ${topic}`, 30_000);
  } finally {
    await consumer.shutdown();
  }
  return got;
}

describe('produce and consume', async () => {
  const cluster = await startCluster();
  const producer = track(new Producer({ producerGroup: 'PG_e2e', namesrvAddr: cluster.namesrvAddr }));
  await producer.start();
  test('1000 sent, 1000 received with identical bodies, keys, tags and properties', async () => {
    const topic = 'E2E_Thousand';
    const sent = new Map<string, { msg: Message; result: SendResult }>();
    for (let i = 0; i < 1000; i++) {
      // Mixed sizes and arbitrary bytes, all below the compression threshold.
      const body = i % 3 === 0 ? randomBytes(1 + (i % 2000)) : Buffer.from(`Hello RocketMQ ${i}`);
      const msg = new Message(topic, body, {
        tags: i % 2 === 0 ? 'TagA' : 'TagB',
        keys: [`key-${i}`, `order-${i % 7}`],
        properties: { seq: String(i) },
      });
      const result = await producer.send(msg);
      assert.equal(result.sendStatus, SendStatus.SEND_OK);
      assert.equal(result.msgId, msg.getProperty('UNIQ_KEY'));
      assert.equal(result.messageQueue.topic, topic);
      sent.set(result.msgId, { msg, result });
    }
    const route = await cluster.admin.examineTopicRoute(topic);
    assert.deepEqual(
      route.queueDatas.map((q) => q.writeQueueNums),
      [4],
      'auto-created through TBW102 with defaultTopicQueueNums queues',
    );
    const got = await consumeAll(cluster, 'CG_thousand', topic, '*', 1000);
    const byId = new Map(got.map((m) => [m.msgId, m]));
    assert.equal(byId.size, 1000, 'every message exactly once');
    for (const [id, { msg, result }] of sent) {
      const m = byId.get(id);
      assert.ok(m, `message ${id} received`);
      assert.ok(m.body.equals(msg.body), `body of ${id}`);
      assert.equal(m.tags, msg.tags);
      assert.deepEqual(m.keys, msg.keys);
      assert.equal(m.getUserProperty('seq'), msg.getUserProperty('seq'));
      assert.equal(m.offsetMsgId, result.offsetMsgId);
      assert.equal(m.queueId, result.messageQueue.queueId);
      assert.equal(m.queueOffset, result.queueOffset);
      assert.equal(m.topic, topic);
      assert.equal(m.reconsumeTimes, 0);
    }
  });

  test('tag filtering delivers only the subscribed tags', async () => {
    const topic = 'E2E_Tags';
    const tags = ['TagA', 'TagB', 'TagC', undefined];
    for (let i = 0; i < 80; i++) {
      await producer.send(new Message(topic, `m${i}`, { tags: tags[i % 4] }));
    }
    const ac = await consumeAll(cluster, 'CG_tags_ac', topic, 'TagA || TagC', 40);
    assert.equal(ac.length, 40);
    assert.deepEqual(new Set(ac.map((m) => m.tags)), new Set(['TagA', 'TagC']));
    const all = await consumeAll(cluster, 'CG_tags_all', topic, '*', 80);
    assert.equal(all.length, 80);
  });

  test('bodies above compressMsgBodyOverHowmuch travel compressed and arrive identical', async () => {
    const topic = 'E2E_Compress';
    const big = Buffer.from('RocketMQ compresses me. '.repeat(1000)); // 24 KB, compressible
    const random = randomBytes(8192); // incompressible, still above the threshold
    const small = Buffer.alloc(4095, 7); // just below 4096: sent as is
    for (const body of [big, random, small]) await producer.send(new Message(topic, body, { tags: 'Z' }));
    const got = await consumeAll(cluster, 'CG_compress', topic, '*', 3);
    const find = (b: Buffer): MessageExt => got.find((m) => m.body.equals(b))!;
    assert.ok(find(big), 'big body identical after inflate');
    assert.ok(find(random), 'random body identical after inflate');
    assert.ok(find(small), 'small body identical');
    assert.equal(find(big).sysFlag & 1, 1, 'compressed sysflag set');
    assert.ok(find(big).storeSize < big.length, 'stored compressed');
    assert.equal(find(random).sysFlag & 1, 1);
    assert.equal(find(small).sysFlag & 1, 0, 'below the threshold: not compressed');
  });

  test('a batch travels in one request and arrives as separate messages', async () => {
    const topic = 'E2E_Batch';
    const msgs = Array.from(
      { length: 50 },
      (_, i) => new Message(topic, `batch ${i}`, { tags: 'B', keys: `b${i}` }),
    );
    const result = await producer.send(msgs);
    assert.equal(result.sendStatus, SendStatus.SEND_OK);
    const ids = result.msgId.split(',');
    assert.equal(ids.length, 50);
    assert.equal(result.offsetMsgId.split(',').length, 50);
    assert.deepEqual(
      ids,
      msgs.map((m) => m.getProperty('UNIQ_KEY')),
    );
    const got = await consumeAll(cluster, 'CG_batch', topic, '*', 50);
    assert.equal(got.length, 50);
    for (const m of got) {
      const i = ids.indexOf(m.msgId);
      assert.ok(i >= 0, 'own UNIQ_KEY per message');
      assert.equal(m.body.toString(), `batch ${i}`);
      assert.deepEqual(m.keys, [`b${i}`]);
      assert.equal(m.queueId, result.messageQueue.queueId, 'one queue for the batch');
      assert.equal(m.queueOffset, result.queueOffset + i, 'consecutive offsets in batch order');
    }
  });

  test('1000 asynchronous sends in flight at once all succeed', async () => {
    const topic = 'E2E_Async';
    await createTopic(cluster, topic, 4);
    const results: SendResult[] = [];
    const errors: Error[] = [];
    await new Promise<void>((resolve) => {
      let pending = 1000;
      const done = (): void => {
        if (--pending === 0) resolve();
      };
      for (let i = 0; i < 1000; i++) {
        producer.sendAsync(new Message(topic, `async ${i}`), {
          onSuccess: (r) => {
            results.push(r);
            done();
          },
          onException: (e) => {
            errors.push(e);
            done();
          },
        });
      }
    });
    assert.deepEqual(errors, []);
    assert.equal(results.length, 1000);
    assert.equal(new Set(results.map((r) => r.msgId)).size, 1000);
    // The same through 1000 concurrent promises.
    const more = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => producer.send(new Message(topic, `p ${i}`))),
    );
    assert.ok(more.every((r) => r.sendStatus === SendStatus.SEND_OK));
    const stats = await cluster.admin.examineTopicStats(topic);
    assert.equal(
      stats.reduce((s, [, o]) => s + o.maxOffset, 0),
      2000,
    );
  });

  test('oneway sends are stored', async () => {
    const topic = 'E2E_Oneway';
    await createTopic(cluster, topic, 2);
    for (let i = 0; i < 10; i++) await producer.sendOneway(new Message(topic, `oneway ${i}`));
    await waitFor(
      async () =>
        (await cluster.admin.examineTopicStats(topic)).reduce((s, [, o]) => s + o.maxOffset, 0) === 10,
      'ten oneway messages stored',
    );
  });

  test('clients speaking the binary ROCKETMQ header work end to end', async () => {
    const topic = 'E2E_Binary';
    const p = track(
      new Producer({
        producerGroup: 'PG_binary',
        namesrvAddr: cluster.namesrvAddr,
        serializeType: 'ROCKETMQ',
      }),
    );
    await p.start();
    const sent = await p.send(new Message(topic, 'binary header', { tags: 'B', keys: 'kb' }));
    const got: MessageExt[] = [];
    const c = track(
      new PushConsumer({
        consumerGroup: 'CG_binary',
        namesrvAddr: cluster.namesrvAddr,
        serializeType: 'ROCKETMQ',
        consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
      }),
    );
    c.subscribe(topic, 'B');
    c.registerMessageListener((msgs) => {
      got.push(...msgs);
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    await c.start();
    await waitFor(() => got.length === 1, 'the message');
    assert.equal(got[0]!.msgId, sent.msgId);
    assert.equal(got[0]!.body.toString(), 'binary header');
    await c.shutdown();
    await p.shutdown();
  });

  test('errors are RmqErrors naming what failed', async () => {
    const tooBig = new Message('E2E_Errors', Buffer.alloc(4 * 1024 * 1024 + 1));
    await assert.rejects(
      producer.send(tooBig),
      (e: unknown) => e instanceof RmqError && e.code === ErrorCode.MESSAGE_ILLEGAL,
    );
    await assert.rejects(producer.send(new Message('E2E_Errors', Buffer.alloc(0))), {
      code: ErrorCode.MESSAGE_ILLEGAL,
    });
    await assert.rejects(producer.send(new Message('bad topic!', 'x')), { code: ErrorCode.MESSAGE_ILLEGAL });
    await createTopic(cluster, 'E2E_Errors', 2);
    const badQueue = { topic: 'E2E_Errors', brokerName: 'broker-a', queueId: 99 };
    await assert.rejects(producer.send(new Message('E2E_Errors', 'x'), badQueue), (e: unknown) => {
      assert.ok(e instanceof RmqError);
      assert.equal(e.code, ErrorCode.BROKER_RESPONSE);
      assert.equal(e.responseCode, 1);
      assert.match(e.message, /SYSTEM_ERROR\(1\)/);
      assert.match(e.message, /topic=E2E_Errors/);
      assert.match(e.message, /broker=broker-a/);
      return true;
    });
    // No route and no auto-create template: nothing to send to.
    const noTemplate = track(
      new Producer({
        producerGroup: 'PG_notemplate',
        namesrvAddr: cluster.namesrvAddr,
        createTopicKey: 'NoSuchTemplate',
      }),
    );
    await noTemplate.start();
    await assert.rejects(noTemplate.send(new Message('E2E_NoRoute', 'x')), { code: ErrorCode.NO_ROUTE });
    await noTemplate.shutdown();
    await assert.rejects(noTemplate.send(new Message('E2E_Errors', 'x')), { code: ErrorCode.CLIENT_STATE });
  });
});
