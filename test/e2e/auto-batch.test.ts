/**
 * The producer's opt-in autoBatch: single sends of one tick travel as SEND_BATCH_MESSAGE, yet each
 * message gets its own result (msgId, offsetMsgId, queue offset), arrives as sent, and is stored
 * with one WAIT property; messages a batch cannot carry still go on their own.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../helpers/wait.js';
import { startCluster, track, createTopic, collectingConsumer } from './helpers/cluster.js';
import { Message, Producer, SendStatus, type SendResult } from '../../src/index.js';
import { RequestCode } from '../../src/protocol/request-code.js';

describe('producer autoBatch', async () => {
  const cluster = await startCluster();
  const topic = 'E2E_AutoBatch';
  await createTopic(cluster, topic);
  const producer = track(
    new Producer({
      producerGroup: 'PG_autobatch',
      namesrvAddr: cluster.namesrvAddr,
      autoBatch: { maxMessages: 16 },
    }),
  );
  await producer.start();
  const broker = cluster.brokers[0]!.broker;

  test('50 async sends of one tick: batches of at most 16, one result per message', async () => {
    const codes: number[] = [];
    const dispatcher = (
      broker as unknown as {
        server: { options: { dispatcher: { dispatch: (r: { code: number }, c: unknown) => void } } };
      }
    ).server.options.dispatcher;
    const original = dispatcher.dispatch.bind(dispatcher);
    dispatcher.dispatch = (r, c) => {
      codes.push(r.code);
      original(r, c);
    };
    const results = await new Promise<SendResult[]>((resolve, reject) => {
      const out: SendResult[] = [];
      for (let i = 0; i < 50; i++) {
        const msg = new Message(topic, `body-${i}`, {
          tags: 'T',
          keys: `k${i}`,
          properties: { seq: String(i) },
        });
        producer.sendAsync(msg, {
          onSuccess: (r) => {
            out[i] = r;
            if (out.filter(Boolean).length === 50) resolve(out);
          },
          onException: reject,
        });
      }
    });
    dispatcher.dispatch = original;
    const sends = codes.filter(
      (c) => c === RequestCode.SEND_BATCH_MESSAGE || c === RequestCode.SEND_MESSAGE_V2,
    );
    assert.ok(sends.length >= 4 && sends.length < 50, `${sends.length} send requests for 50 messages`);
    assert.ok(codes.includes(RequestCode.SEND_BATCH_MESSAGE));
    assert.equal(new Set(results.map((r) => r.msgId)).size, 50, 'a msgId per message');
    assert.equal(new Set(results.map((r) => r.offsetMsgId)).size, 50, 'an offsetMsgId per message');
    for (const r of results) {
      assert.equal(r.sendStatus, SendStatus.SEND_OK);
      assert.ok(!r.msgId.includes(','));
      const stored = await cluster.admin.viewMessage(r.offsetMsgId);
      assert.equal(stored.queueId, r.messageQueue.queueId);
      assert.equal(stored.queueOffset, r.queueOffset);
      assert.equal(stored.msgId, r.msgId);
    }

    const { consumer, got } = await collectingConsumer(cluster, 'CG_autobatch', topic);
    await waitFor(() => got.length >= 50, '50 messages');
    await consumer.shutdown();
    for (const m of got) {
      const i = Number(m.getUserProperty('seq'));
      assert.equal(m.body.toString(), `body-${i}`);
      assert.equal(m.tags, 'T');
      assert.deepEqual(m.keys, [`k${i}`]);
      assert.equal(m.properties.get('WAIT'), 'true');
      assert.equal(m.properties.get('UNIQ_KEY'), results[i]!.msgId);
    }
  });

  test('a lone send, a delayed message and a big body go as plain sends', async () => {
    const single = await producer.send(new Message(topic, 'alone'));
    assert.equal(single.sendStatus, SendStatus.SEND_OK);
    const [delayed, plain, big] = await Promise.all([
      producer.send(new Message(topic, 'later', { delayTimeLevel: 1 })),
      producer.send(new Message(topic, 'now')),
      producer.send(new Message(topic, Buffer.alloc(5000, 7))),
    ]);
    const bigStored = await cluster.admin.viewMessage(big.offsetMsgId);
    assert.equal(
      bigStored.sysFlag & 1,
      1,
      'a body past the compression threshold is compressed, so not batched',
    );
    assert.deepEqual(bigStored.body, Buffer.alloc(5000, 7));
    assert.equal(delayed.sendStatus, SendStatus.SEND_OK);
    assert.equal(plain.sendStatus, SendStatus.SEND_OK);
    assert.notEqual(delayed.offsetMsgId, plain.offsetMsgId);
    const stored = await cluster.admin.viewMessage(delayed.offsetMsgId);
    assert.equal(stored.topic, 'SCHEDULE_TOPIC_XXXX', 'the delayed one went alone, to the schedule topic');
  });
});
