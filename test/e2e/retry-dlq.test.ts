import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../helpers/wait.js';
import { FAST_CLIENT, ONE_SECOND_LEVELS, createTopic, startCluster, track } from './helpers/cluster.js';
import { getOrCreateClientInstance } from '../../src/client/client-instance.js';
import { RmqError, ErrorCode } from '../../src/common/errors.js';
import {
  ConsumeConcurrentlyStatus,
  Message,
  Producer,
  PushConsumer,
  type MessageExt,
  type MessageListenerConcurrently,
  type PushConsumerOptions,
} from '../../src/index.js';

describe('retry and dead-letter queues', async () => {
  const cluster = await startCluster({ props: ONE_SECOND_LEVELS });
  const producer = track(
    new Producer({ producerGroup: 'PG_retry', namesrvAddr: cluster.namesrvAddr, instanceName: 'retry-p' }),
  );
  await producer.start();

  async function consume(
    group: string,
    topic: string,
    listener: MessageListenerConcurrently,
    opts: Partial<PushConsumerOptions> = {},
  ): Promise<PushConsumer> {
    const consumer = track(
      new PushConsumer({
        consumerGroup: group,
        namesrvAddr: cluster.namesrvAddr,
        instanceName: `retry-${group}`,
        consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
        ...FAST_CLIENT,
        ...opts,
      }),
    );
    consumer.subscribe(topic, '*');
    consumer.registerMessageListener(listener);
    await consumer.start();
    return consumer;
  }

  const dlqCount = async (group: string): Promise<number> => {
    const stats = await cluster.admin.examineTopicStats(`%DLQ%${group}`).catch(() => []);
    return stats.reduce((n, [, o]) => n + o.maxOffset, 0);
  };

  test('RECONSUME_LATER and throws come back with increasing reconsumeTimes, then go to the DLQ', async () => {
    const topic = 'E2E_Retry';
    await createTopic(cluster, topic, 2);
    const seen: MessageExt[] = [];
    const consumer = await consume(
      'CG_retry',
      topic,
      (msgs) => {
        for (const m of msgs) {
          seen.push(m);
          if (m.body.toString() === 'throws') throw new Error(`listener failed on try ${m.reconsumeTimes}`);
          if (m.body.toString() === 'later') return ConsumeConcurrentlyStatus.RECONSUME_LATER;
        }
        return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
      },
      { maxReconsumeTimes: 2 },
    );
    const later = await producer.send(new Message(topic, 'later', { tags: 'TagA', keys: 'biz-later' }));
    const throws = await producer.send(new Message(topic, 'throws', { properties: { mine: 'yes' } }));
    await producer.send(new Message(topic, 'fine'));
    await waitFor(async () => (await dlqCount('CG_retry')) === 2, 'both failing messages in the DLQ', 20_000);

    for (const [body, sent] of [
      ['later', later],
      ['throws', throws],
    ] as const) {
      const tries = seen.filter((m) => m.body.toString() === body);
      assert.deepEqual(
        tries.map((m) => m.reconsumeTimes),
        [0, 1, 2],
        `${body}: the first delivery and maxReconsumeTimes retries`,
      );
      for (const m of tries) {
        assert.equal(m.topic, topic, 'retries show the original topic');
        assert.equal(m.msgId, sent.msgId, 'and the original msgId');
      }
      assert.equal(tries[1]!.properties.get('RETRY_TOPIC'), topic);
      assert.ok(tries[1]!.properties.get('ORIGIN_MESSAGE_ID'));
    }
    assert.equal(seen.filter((m) => m.body.toString() === 'fine').length, 1);
    const laterTries = seen.filter((m) => m.body.toString() === 'later');
    assert.equal(laterTries[2]!.tags, 'TagA');
    assert.deepEqual(laterTries[2]!.keys, ['biz-later']);

    // The dead letters, read with the Admin client.
    const dead = await cluster.admin.queryMessageByUniqKey('%DLQ%CG_retry', later.msgId);
    assert.ok(dead, 'found in %DLQ%CG_retry by its msgId');
    assert.equal(dead.body.toString(), 'later');
    assert.equal(dead.topic, '%DLQ%CG_retry');
    assert.equal(dead.reconsumeTimes, 3);
    assert.equal(dead.properties.get('RETRY_TOPIC'), topic);
    assert.equal(dead.tags, 'TagA');
    const byKey = await cluster.admin.queryMessage('%DLQ%CG_retry', 'biz-later');
    assert.deepEqual(
      byKey.map((m) => m.msgId),
      [later.msgId],
    );
    const deadThrows = await cluster.admin.queryMessageByUniqKey('%DLQ%CG_retry', throws.msgId);
    assert.equal(deadThrows?.getUserProperty('mine'), 'yes');
    await consumer.shutdown();
  });

  test('a listener can send a message straight to the DLQ (delayLevelWhenNextConsume -1)', async () => {
    const topic = 'E2E_Retry_Direct';
    await createTopic(cluster, topic, 1);
    const seen: number[] = [];
    const consumer = await consume('CG_retry_direct', topic, (msgs, ctx) => {
      seen.push(msgs[0]!.reconsumeTimes);
      ctx.delayLevelWhenNextConsume = -1;
      return ConsumeConcurrentlyStatus.RECONSUME_LATER;
    });
    const sent = await producer.send(new Message(topic, 'hopeless'));
    await waitFor(async () => (await dlqCount('CG_retry_direct')) === 1, 'the dead letter');
    assert.deepEqual(seen, [0]);
    const dead = await cluster.admin.queryMessageByUniqKey('%DLQ%CG_retry_direct', sent.msgId);
    assert.equal(dead?.body.toString(), 'hopeless');
    await consumer.shutdown();
  });

  test('when CONSUMER_SEND_MSG_BACK fails, a copy goes to %RETRY% through the inner producer', async () => {
    const topic = 'E2E_Retry_Fallback';
    await createTopic(cluster, topic, 1);
    const seen: MessageExt[] = [];
    const consumer = await consume(
      'CG_retry_fallback',
      topic,
      (msgs) => {
        seen.push(...msgs);
        return msgs[0]!.reconsumeTimes < 2
          ? ConsumeConcurrentlyStatus.RECONSUME_LATER
          : ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
      },
      { maxReconsumeTimes: 5 },
    );
    // The broker refuses every send-back of this client.
    const instance = getOrCreateClientInstance(consumer.config.client);
    let refused = 0;
    instance.api.consumerSendMessageBack = () => {
      refused++;
      return Promise.reject(new RmqError(ErrorCode.BROKER_RESPONSE, 'refused by the test'));
    };
    const sent = await producer.send(new Message(topic, 'via the retry topic', { tags: 'T' }));
    await waitFor(() => seen.length === 3, 'two retries and a success', 20_000);
    assert.equal(refused, 2);
    assert.deepEqual(
      seen.map((m) => [m.topic, m.msgId, m.reconsumeTimes]),
      [
        [topic, sent.msgId, 0],
        [topic, sent.msgId, 1],
        [topic, sent.msgId, 2],
      ],
    );
    assert.equal(seen[2]!.properties.get('ORIGIN_MESSAGE_ID'), sent.msgId);
    assert.equal(seen[2]!.properties.get('RETRY_TOPIC'), topic);
    assert.equal(seen[2]!.tags, 'T');
    assert.equal(seen[1]!.properties.has('RECONSUME_TIME'), false, 'the counters travel in the header');
    await consumer.shutdown();
  });
});
