import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { waitFor } from '../helpers/wait.js';
import { createTopic, startCluster, track, collectingConsumer } from './helpers/cluster.js';
import { getOrCreateClientInstance } from '../../src/client/client-instance.js';
import { createClientDispatcher } from '../../src/client/client-remoting-processor.js';
import { MQClientAPI } from '../../src/client/mq-client-api.js';
import { NamesrvSelector } from '../../src/client/namesrv-selector.js';
import { PullAPIWrapper } from '../../src/client/consumer/pull-api-wrapper.js';
import { RemotingClient } from '../../src/remoting/remoting-client.js';
import { createRequest, type RemotingCommand } from '../../src/remoting/remoting-command.js';
import type { Channel } from '../../src/remoting/channel.js';
import { RequestCode } from '../../src/protocol/request-code.js';
import {
  GetConsumerRunningInfoRequestHeader,
  GetConsumerStatusRequestHeader,
  ResetOffsetRequestHeader,
} from '../../src/protocol/broker-headers.js';
import { encodeResetOffsetBody } from '../../src/protocol/admin-bodies.js';
import { objectKeyedEntries, parseJson } from '../../src/protocol/fastjson.js';
import { getLogger } from '../../src/common/logger.js';
import {
  ConsumeConcurrentlyStatus,
  ErrorCode,
  Message,
  Producer,
  PushConsumer,
  type MessageExt,
} from '../../src/index.js';

/** A channel that records what the client answers. */
function recordingChannel(): { channel: Channel; written: RemotingCommand[] } {
  const written: RemotingCommand[] = [];
  const channel = {
    remoteAddress: 'test:0',
    write: (c: RemotingCommand) => written.push(c) > 0,
  } as unknown as Channel;
  return { channel, written };
}

async function deadAddr(): Promise<string> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  s.close();
  await once(s, 'close');
  return `127.0.0.1:${port}`;
}

describe('client instance', async () => {
  const cluster = await startCluster();
  const producer = track(new Producer({ producerGroup: 'PG_instance', namesrvAddr: cluster.namesrvAddr }));
  await producer.start();

  test('NameServer calls fail over to the next NameServer', async () => {
    const dead = await deadAddr();
    const selector = new NamesrvSelector([dead, cluster.namesrvAddr]);
    if (selector.order()[0] !== dead) selector.markFailed(cluster.namesrvAddr);
    assert.equal(selector.order()[0], dead);
    const remoting = new RemotingClient({ log: getLogger('test.failover') });
    try {
      const api = new MQClientAPI(remoting, selector, 0, 3000, getLogger('test.failover'));
      const route = await api.getTopicRouteInfo('TBW102');
      assert.ok(route.brokerDatas.length > 0);
      assert.equal(selector.order()[0], cluster.namesrvAddr, 'the live one is chosen from now on');
    } finally {
      remoting.close();
    }
    // A producer given the dead one first still works.
    const p = track(
      new Producer({ producerGroup: 'PG_failover_ns', namesrvAddr: `${dead};${cluster.namesrvAddr}` }),
    );
    await p.start();
    await p.send(new Message('E2E_NsFailover', 'x'));
    await p.shutdown();
  });

  test('running info, consumer status and offset reset requested by a broker', async () => {
    const topic = 'E2E_Reset';
    await createTopic(cluster, topic, 2);
    for (let i = 0; i < 20; i++) await producer.send(new Message(topic, `r${i}`));
    const { consumer, got } = await collectingConsumer(cluster, 'CG_reset', topic, {
      instanceName: 'reset',
    });
    await waitFor(() => got.length >= 20, 'first pass');

    const dispatcher = createClientDispatcher(getOrCreateClientInstance(consumer.config.client));
    const { channel, written } = recordingChannel();
    dispatcher.dispatch(
      createRequest(RequestCode.GET_CONSUMER_RUNNING_INFO, {
        extFields: GetConsumerRunningInfoRequestHeader.encode({
          consumerGroup: 'CG_reset',
          clientId: consumer.clientId!,
        }),
      }),
      channel,
    );
    await waitFor(() => written.length === 1, 'running info answer');
    assert.equal(written[0]!.code, 0);
    const info = parseJson(written[0]!.body!.toString()) as Record<string, unknown>;
    assert.equal((info.properties as Record<string, string>).consumerGroup, 'CG_reset');
    assert.ok((info.subscriptionSet as { topic: string }[]).some((s) => s.topic === topic));
    const mqTable = objectKeyedEntries(info.mqTable).filter(
      ([mq]) => (mq as { topic: string }).topic === topic,
    );
    assert.equal(mqTable.length, 2);

    dispatcher.dispatch(
      createRequest(RequestCode.GET_CONSUMER_RUNNING_INFO, {
        extFields: GetConsumerRunningInfoRequestHeader.encode({ consumerGroup: 'CG_nobody', clientId: 'x' }),
      }),
      channel,
    );
    await waitFor(() => written.length === 2, 'second answer');
    assert.equal(written[1]!.code, 1);

    dispatcher.dispatch(
      createRequest(RequestCode.GET_CONSUMER_STATUS_FROM_CLIENT, {
        extFields: GetConsumerStatusRequestHeader.encode({ topic, group: 'CG_reset' }),
      }),
      channel,
    );
    await waitFor(() => written.length === 3, 'consumer status answer');
    const status = parseJson(written[2]!.body!.toString()) as Record<string, unknown>;
    assert.equal(
      objectKeyedEntries(status.messageQueueTable).reduce((s, [, o]) => s + Number(o), 0),
      20,
      'the offsets this consumer holds',
    );

    // The broker forwards an admin's reset: every queue back to 0, consumed again.
    const mqs = await consumer.fetchSubscribeMessageQueues(topic);
    dispatcher.dispatch(
      createRequest(RequestCode.RESET_CONSUMER_CLIENT_OFFSET, {
        extFields: ResetOffsetRequestHeader.encode({ topic, group: 'CG_reset', timestamp: 0, isForce: true }),
        body: encodeResetOffsetBody(mqs.map((mq) => [mq, 0])),
        oneway: true,
      }),
      channel,
    );
    await waitFor(() => got.length >= 40, 'second pass after the reset');
    const bodies = got.map((m) => m.body.toString());
    for (let i = 0; i < 20; i++) assert.equal(bodies.filter((b) => b === `r${i}`).length, 2);
    await consumer.shutdown();
  });

  test('RECONSUME_LATER hands the message to the broker, which redelivers it through the retry topic', async () => {
    const topic = 'E2E_Later';
    await createTopic(cluster, topic, 1);
    const got: MessageExt[] = [];
    const consumer = track(
      new PushConsumer({
        consumerGroup: 'CG_later',
        namesrvAddr: cluster.namesrvAddr,
        consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
        instanceName: 'later',
      }),
    );
    consumer.subscribe(topic, '*');
    consumer.registerMessageListener((msgs, ctx) => {
      got.push(...msgs);
      if (msgs[0]!.reconsumeTimes === 0) {
        ctx.delayLevelWhenNextConsume = 1; // 1 s
        return ConsumeConcurrentlyStatus.RECONSUME_LATER;
      }
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    await consumer.start();
    await waitFor(
      () => consumer.assignment().some((q) => q.topic === '%RETRY%CG_later'),
      'the retry queue',
      40_000,
    );
    const sent = await producer.send(new Message(topic, 'try again', { tags: 'T1', keys: 'k1' }));
    await waitFor(() => got.length >= 2, 'the redelivery', 30_000);
    const [first, again] = got as [MessageExt, MessageExt];
    assert.equal(first.reconsumeTimes, 0);
    assert.equal(again.reconsumeTimes, 1);
    assert.equal(again.topic, topic, 'the original topic again');
    assert.equal(again.msgId, sent.msgId, 'the same message id');
    assert.equal(again.body.toString(), 'try again');
    assert.equal(again.tags, 'T1');
    await consumer.shutdown();
  });

  test('offsets are committed periodically while consuming, and a leaving consumer unregisters', async () => {
    const topic = 'E2E_Periodic';
    await createTopic(cluster, topic, 2);
    for (let i = 0; i < 30; i++) await producer.send(new Message(topic, `p${i}`));
    let count = 0;
    const consumer = track(
      new PushConsumer({
        consumerGroup: 'CG_periodic',
        namesrvAddr: cluster.namesrvAddr,
        instanceName: 'periodic',
        consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
        persistConsumerOffsetInterval: 100,
      }),
    );
    consumer.subscribe(topic, '*');
    consumer.registerMessageListener(() => {
      count++;
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    await consumer.start();
    // Shares the consumer's client instance (created with the consumer's settings) and its
    // connections: only UNREGISTER_CLIENT can tell the broker the consumer left.
    const sharing = track(
      new Producer({
        producerGroup: 'PG_sharing',
        namesrvAddr: cluster.namesrvAddr,
        instanceName: 'periodic',
      }),
    );
    await sharing.start();
    assert.equal(consumer.clientId, sharing.clientId, 'one client instance');
    await waitFor(() => count >= 30, 'all consumed');
    await waitFor(
      async () =>
        (await cluster.admin.queryConsumerOffsets('CG_periodic', topic)).reduce((s, [, o]) => s + o, 0) ===
        30,
      'offsets committed without a shutdown',
    );
    assert.deepEqual(
      (await cluster.admin.examineConsumerConnectionInfo('CG_periodic')).connectionSet.map((c) => c.clientId),
      [consumer.clientId],
    );
    // One group once per client instance, as upstream.
    const twin = new PushConsumer({
      consumerGroup: 'CG_periodic',
      namesrvAddr: cluster.namesrvAddr,
      instanceName: 'periodic',
    });
    twin.registerMessageListener(() => ConsumeConcurrentlyStatus.CONSUME_SUCCESS);
    await assert.rejects(twin.start(), { code: ErrorCode.CLIENT_STATE });
    await consumer.shutdown();
    await assert.rejects(cluster.admin.examineConsumerConnectionInfo('CG_periodic'), { responseCode: 206 });
    await sharing.send(new Message(topic, 'the producer still works'));
    await sharing.shutdown();
  });

  test('flow control: a slow listener stops pulling at pullThresholdForQueue', async () => {
    const topic = 'E2E_Flow';
    await createTopic(cluster, topic, 1);
    for (let i = 0; i < 100; i++) await producer.send(new Message(topic, `f${i}`));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let calls = 0;
    const consumer = track(
      new PushConsumer({
        consumerGroup: 'CG_flow',
        namesrvAddr: cluster.namesrvAddr,
        instanceName: 'flow',
        consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
        consumeThreadMax: 1,
        pullBatchSize: 4,
        pullThresholdForQueue: 10,
      }),
    );
    consumer.subscribe(topic, '*');
    consumer.registerMessageListener(async () => {
      calls++;
      await gate;
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    await consumer.start();
    const dispatcher = createClientDispatcher(getOrCreateClientInstance(consumer.config.client));
    const cached = async (): Promise<number> => {
      const { channel, written } = recordingChannel();
      dispatcher.dispatch(
        createRequest(RequestCode.GET_CONSUMER_RUNNING_INFO, {
          extFields: GetConsumerRunningInfoRequestHeader.encode({ consumerGroup: 'CG_flow', clientId: 'x' }),
        }),
        channel,
      );
      await waitFor(() => written.length === 1, 'running info');
      const info = parseJson(written[0]!.body!.toString()) as Record<string, unknown>;
      const entry = objectKeyedEntries(info.mqTable).find(
        ([mq]) => (mq as { topic: string }).topic === topic,
      );
      return entry ? Number((entry[1] as { cachedMsgCount: number }).cachedMsgCount) : 0;
    };
    await waitFor(async () => (await cached()) > 10, 'the queue filled past the threshold');
    // However long the listener stays blocked, pulling stops within one batch of the threshold.
    for (let i = 0; i < 10; i++) assert.ok((await cached()) <= 10 + 4);
    assert.equal(calls, 1);
    release();
    await consumer.shutdown();
  });

  test('a found batch is decoded after the next pull has left, unless flow control could stop it', async () => {
    const topic = 'E2E_PullAhead';
    await createTopic(cluster, topic, 1);
    for (let i = 0; i < 40; i++) await producer.send(new Message(topic, `p${i}`));
    const events: string[] = [];
    const proto = PullAPIWrapper.prototype;
    const { pullRaw, processPullResult } = proto;
    proto.pullRaw = function (spec) {
      events.push(`pull ${spec.offset}`);
      return pullRaw.call(this, spec);
    };
    proto.processPullResult = function (mq, raw, sub) {
      const r = processPullResult.call(this, mq, raw, sub);
      if (r.msgFoundList.length > 0) events.push(`decode ${r.msgFoundList[0]!.queueOffset}`);
      return r;
    };
    try {
      // Room for two batches of 4: the first pull runs ahead, then the queue holds 4 and one
      // more batch would reach the threshold, so the rest decode first and pull after.
      const { consumer, got } = await collectingConsumer(cluster, 'CG_pull_ahead', topic, {
        pullBatchSize: 4,
        pullThresholdForQueue: 7,
      });
      await waitFor(() => got.length === 40, 'all 40 consumed');
      assert.deepEqual(
        got.map((m) => m.queueOffset).sort((a, b) => a - b),
        Array.from({ length: 40 }, (_, i) => i),
      );
      assert.deepEqual(events.slice(0, 3), ['pull 0', 'pull 4', 'decode 0']);
      await consumer.shutdown();
      // With room to spare every found batch is decoded after its successor's pull left.
      events.length = 0;
      const ahead = await collectingConsumer(cluster, 'CG_pull_ahead2', topic, { pullBatchSize: 4 });
      await waitFor(() => ahead.got.length === 40, 'all 40 consumed again');
      for (let offset = 0; offset < 40; offset += 4) {
        const decoded = events.indexOf(`decode ${offset}`);
        assert.ok(decoded > events.indexOf(`pull ${offset + 4}`), `batch ${offset}: ${events.join(', ')}`);
      }
      await ahead.consumer.shutdown();
    } finally {
      proto.pullRaw = pullRaw;
      proto.processPullResult = processPullResult;
    }
  });
});
