import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../helpers/wait.js';
import { startCluster, track, collectingConsumer } from './helpers/cluster.js';
import { ErrorCode, Message, Producer, RmqError } from '../../src/index.js';

describe('Admin', async () => {
  const cluster = await startCluster({ brokers: 2 });
  const { admin } = cluster;

  test('cluster info and broker runtime info', async () => {
    const info = await admin.examineBrokerClusterInfo();
    assert.deepEqual(new Set(info.clusterAddrTable.get('DefaultCluster')), new Set(['broker-a', 'broker-b']));
    assert.equal(info.brokerAddrTable.get('broker-a')?.brokerAddrs.get(0), cluster.brokers[0]!.addr);
    assert.deepEqual(await admin.brokerAddrs({ clusterName: 'DefaultCluster' }), await admin.brokerAddrs());
    const runtime = await admin.getBrokerRuntimeInfo(cluster.brokers[0]!.addr);
    assert.ok(runtime.has('brokerVersionDesc'));
  });

  test('create, route, list, stats, consume stats, offsets, delete', async () => {
    const topic = 'E2E_Admin';
    await admin.createTopic(topic, { readQueueNums: 3, writeQueueNums: 3, clusterName: 'DefaultCluster' });
    const route = await waitFor(
      () =>
        admin.examineTopicRoute(topic).then(
          (r) => (r.queueDatas.length === 2 ? r : undefined),
          () => undefined,
        ),
      'route on both brokers',
    );
    assert.ok(route.queueDatas.every((q) => q.readQueueNums === 3 && q.writeQueueNums === 3 && q.perm === 6));
    assert.ok((await admin.fetchAllTopicList()).includes(topic));

    const producer = track(new Producer({ producerGroup: 'PG_admin', namesrvAddr: cluster.namesrvAddr }));
    await producer.start();
    const results = [];
    for (let i = 0; i < 60; i++)
      results.push(await producer.send(new Message(topic, `a${i}`, { keys: 'k' })));
    await producer.shutdown();
    const stats = await admin.examineTopicStats(topic);
    assert.equal(stats.length, 6);
    assert.equal(
      stats.reduce((s, [, o]) => s + o.maxOffset, 0),
      60,
    );
    const mq = results[0]!.messageQueue;
    assert.ok((await admin.maxOffset(mq)) >= 1);
    assert.equal(await admin.minOffset(mq), 0);

    const viewed = await admin.viewMessage(results[0]!.offsetMsgId);
    assert.equal(viewed.body.toString(), 'a0');
    assert.equal(viewed.msgId, results[0]!.msgId);

    const { consumer, got } = await collectingConsumer(cluster, 'CG_admin', topic);
    await waitFor(() => got.length >= 60, 'all consumed');
    const conn = await admin.examineConsumerConnectionInfo('CG_admin');
    assert.deepEqual(
      conn.connectionSet.map((c) => c.clientId),
      [consumer.clientId],
    );
    assert.equal(conn.messageModel, 'CLUSTERING');
    assert.ok(conn.subscriptionTable.has(topic));
    await consumer.shutdown();

    const offsets = await admin.queryConsumerOffsets('CG_admin', topic);
    assert.equal(offsets.length, 6);
    assert.equal(
      offsets.reduce((s, [, o]) => s + o, 0),
      60,
    );
    const consumeStats = await admin.examineConsumeStats('CG_admin', topic);
    const ofTopic = consumeStats.offsetTable.filter(([q]) => q.topic === topic);
    assert.equal(ofTopic.length, 6);
    assert.ok(
      ofTopic.every(([, w]) => w.brokerOffset === w.consumerOffset),
      'no lag',
    );

    await admin.updateConsumerOffset('CG_admin', offsets[0]![0], 0);
    assert.equal((await admin.queryConsumerOffsets('CG_admin', topic))[0]![1], 0);

    await admin.deleteTopic(topic);
    await assert.rejects(
      admin.examineTopicRoute(topic),
      (e: unknown) => e instanceof RmqError && e.code === ErrorCode.TOPIC_NOT_EXIST,
    );
    assert.ok(!(await admin.fetchAllTopicList()).includes(topic));
  });

  test('subscription groups', async () => {
    await admin.createSubscriptionGroup({ groupName: 'CG_created', retryMaxTimes: 3 });
    await admin.deleteSubscriptionGroup('CG_created');
  });
});
