import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequest, type RemotingCommand } from '../../src/remoting/remoting-command.js';
import { RequestCode } from '../../src/protocol/request-code.js';
import { ResponseCode } from '../../src/protocol/response-code.js';
import {
  ConsumerGroupRequestHeader,
  DeleteSubscriptionGroupRequestHeader,
  GetConsumeStatsRequestHeader,
  GetProducerConnectionListRequestHeader,
  QueryMessageRequestHeader,
  TopicRequestHeader,
  ViewMessageRequestHeader,
} from '../../src/protocol/broker-headers.js';
import {
  decodeConsumeStats,
  decodeConsumerConnection,
  decodeProducerConnection,
  decodeSubscriptionGroupWrapper,
  decodeTopicStatsTable,
  jsonBody,
} from '../../src/protocol/admin-bodies.js';
import { decodeKVTable, decodeClusterInfo } from '../../src/protocol/route-data.js';
import { topicConfigWrapperFromJson } from '../../src/protocol/topic-config.js';
import { parseJson } from '../../src/protocol/fastjson.js';
import { decodeRecords } from '../../src/common/message/message-record.js';
import { decodeOffsetMsgId } from '../../src/common/message/message-id.js';
import { parseProperties, propertiesToMap } from '../../src/common/config/properties-file.js';
import { startBroker } from '../helpers/broker.js';
import { startNamesrv } from '../helpers/namesrv.js';
import { createTopic, heartbeat, send, testClient } from '../helpers/broker-calls.js';
import { waitFor } from '../helpers/wait.js';

describe('topic and group administration', async () => {
  const { addr: ns } = await startNamesrv();
  const first = await startBroker({ namesrvAddr: ns });
  const c = testClient();

  test('create, list, persist and delete a topic; the NameServer learns at once', async () => {
    assert.equal((await createTopic(c, first.addr, 'AdminT', 3, 6, true)).code, ResponseCode.SUCCESS);
    const all = topicConfigWrapperFromJson(
      parseJson(
        (await c.invoke(first.addr, createRequest(RequestCode.GET_ALL_TOPIC_CONFIG))).body!.toString(),
      ),
    );
    assert.deepEqual(
      {
        r: all.topicConfigTable.get('AdminT')?.readQueueNums,
        w: all.topicConfigTable.get('AdminT')?.writeQueueNums,
        order: all.topicConfigTable.get('AdminT')?.order,
      },
      { r: 3, w: 3, order: true },
    );
    assert.ok(all.dataVersion.counter > 0);
    await waitFor(
      async () =>
        (
          await c.invoke(
            ns,
            createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { extFields: { topic: 'AdminT' } }),
          )
        ).code === ResponseCode.SUCCESS,
      'route at the NameServer',
    );

    const sys = await createTopic(c, first.addr, 'TBW102');
    assert.equal(sys.code, ResponseCode.SYSTEM_ERROR);
    assert.equal(sys.remark, 'The topic[TBW102] is conflict with system topic.');
    const own = await createTopic(c, first.addr, 'broker-a');
    assert.equal(own.code, ResponseCode.SYSTEM_ERROR, "the broker's own name is a system topic");

    await createTopic(c, first.addr, 'Doomed', 1);
    await send(c, first.addr, { topic: 'Doomed', body: 'x' });
    const del = await c.invoke(
      first.addr,
      createRequest(RequestCode.DELETE_TOPIC_IN_BROKER, {
        extFields: TopicRequestHeader.encode({ topic: 'Doomed' }),
      }),
    );
    assert.equal(del.code, ResponseCode.SUCCESS);
    assert.equal(first.broker.topics.has('Doomed'), false);
    assert.equal(first.broker.store.getMaxOffsetInQueue('Doomed', 0), 0, 'its queues are gone');
  });

  test('subscription groups: create with settings, list, delete with offsets', async () => {
    const create = await c.invoke(
      first.addr,
      createRequest(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {
        body: jsonBody({ groupName: 'AdminG', retryMaxTimes: 3, consumeBroadcastEnable: false }),
      }),
    );
    assert.equal(create.code, ResponseCode.SUCCESS);
    const all = decodeSubscriptionGroupWrapper(
      (await c.invoke(first.addr, createRequest(RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG))).body,
    );
    assert.equal(all.subscriptionGroupTable.get('AdminG')?.retryMaxTimes, 3);
    assert.equal(all.subscriptionGroupTable.get('AdminG')?.consumeBroadcastEnable, false);
    first.broker.offsets.commit('AdminG', 'AdminT', 0, 5);
    const del = await c.invoke(
      first.addr,
      createRequest(RequestCode.DELETE_SUBSCRIPTIONGROUP, {
        extFields: DeleteSubscriptionGroupRequestHeader.encode({ groupName: 'AdminG', removeOffset: true }),
      }),
    );
    assert.equal(del.code, ResponseCode.SUCCESS);
    assert.equal(first.broker.groups.get('AdminG'), undefined);
    assert.equal(first.broker.offsets.query('AdminG', 'AdminT', 0), -1);
    const bad = await c.invoke(
      first.addr,
      createRequest(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, { body: Buffer.from('nope') }),
    );
    assert.equal(bad.code, ResponseCode.SYSTEM_ERROR);
  });

  test('topics and groups survive a restart (topics.json, subscriptionGroup.json)', async () => {
    await c.invoke(
      first.addr,
      createRequest(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {
        body: jsonBody({ groupName: 'KeepG', retryMaxTimes: 5 }),
      }),
    );
    await first.broker.shutdown();
    const second = await startBroker({ dir: first.dir });
    assert.equal(second.broker.topics.select('AdminT')?.writeQueueNums, 3);
    assert.equal(second.broker.groups.get('KeepG')?.retryMaxTimes, 5);
  });
});

describe('messages and inspection', async () => {
  const { addr, broker } = await startBroker();
  const c = testClient();
  await createTopic(c, addr, 'Insp', 2);
  const sent: RemotingCommand[] = [];
  for (let i = 0; i < 5; i++)
    sent.push(await send(c, addr, { topic: 'Insp', body: `m${i}`, keys: `order-${i} all`, queueId: i % 2 }));

  test('QUERY_MESSAGE finds messages by key within a time range', async () => {
    const q = (key: string, begin = 0, end = Date.now() + 1000) =>
      c.invoke(
        addr,
        createRequest(RequestCode.QUERY_MESSAGE, {
          extFields: QueryMessageRequestHeader.encode({
            topic: 'Insp',
            key,
            maxNum: 32,
            beginTimestamp: begin,
            endTimestamp: end,
          }),
        }),
      );
    const one = await q('order-3');
    assert.equal(one.code, ResponseCode.SUCCESS);
    assert.deepEqual(
      decodeRecords(one.body!).map((m) => m.body.toString()),
      ['m3'],
    );
    assert.ok(Number(one.extFields?.indexLastUpdatePhyoffset) > 0);
    const many = await q('all');
    assert.deepEqual(
      decodeRecords(many.body!)
        .map((m) => m.body.toString())
        .sort(),
      ['m0', 'm1', 'm2', 'm3', 'm4'],
    );
    assert.equal((await q('nope')).code, ResponseCode.QUERY_NOT_FOUND);
    assert.equal((await q('all', 0, 1)).code, ResponseCode.QUERY_NOT_FOUND, 'outside the time range');
  });

  test('VIEW_MESSAGE_BY_ID returns the message at the offset inside its offsetMsgId', async () => {
    const { offset } = decodeOffsetMsgId(sent[2]!.extFields!.msgId!);
    const res = await c.invoke(
      addr,
      createRequest(RequestCode.VIEW_MESSAGE_BY_ID, {
        extFields: ViewMessageRequestHeader.encode({ offset }),
      }),
    );
    assert.equal(res.code, ResponseCode.SUCCESS);
    assert.equal(decodeRecords(res.body!)[0]!.body.toString(), 'm2');
    const missing = await c.invoke(
      addr,
      createRequest(RequestCode.VIEW_MESSAGE_BY_ID, {
        extFields: ViewMessageRequestHeader.encode({ offset: 99_999_999 }),
      }),
    );
    assert.equal(missing.code, ResponseCode.SYSTEM_ERROR);
  });

  test('GET_TOPIC_STATS_INFO and GET_CONSUME_STATS (object-keyed maps as fastjson writes them)', async () => {
    const stats = await c.invoke(
      addr,
      createRequest(RequestCode.GET_TOPIC_STATS_INFO, {
        extFields: TopicRequestHeader.encode({ topic: 'Insp' }),
      }),
    );
    assert.match(stats.body!.toString(), /\{\{"brokerName":"broker-a","queueId":0,"topic":"Insp"\}:/);
    const table = decodeTopicStatsTable(stats.body);
    assert.deepEqual(
      table.map(([mq, o]) => [mq.queueId, o.minOffset, o.maxOffset]),
      [
        [0, 0, 3],
        [1, 0, 2],
      ],
    );
    assert.ok(table[0]![1].lastUpdateTimestamp > 0);
    broker.offsets.commit('StatG', 'Insp', 0, 2);
    const cs = decodeConsumeStats(
      (
        await c.invoke(
          addr,
          createRequest(RequestCode.GET_CONSUME_STATS, {
            extFields: GetConsumeStatsRequestHeader.encode({ consumerGroup: 'StatG', topic: 'Insp' }),
          }),
        )
      ).body,
    );
    assert.deepEqual(
      cs.offsetTable.map(([mq, o]) => [mq.queueId, o.brokerOffset, o.consumerOffset]),
      [
        [0, 3, 2],
        [1, 2, 0],
      ],
    );
    assert.equal(
      (
        await c.invoke(
          addr,
          createRequest(RequestCode.GET_TOPIC_STATS_INFO, {
            extFields: TopicRequestHeader.encode({ topic: 'None' }),
          }),
        )
      ).code,
      ResponseCode.TOPIC_NOT_EXIST,
    );
  });

  test('connection lists, runtime info and broker config', async () => {
    await heartbeat(c, addr, '127.0.0.1@77', 'InspG', { Insp: '*' }, 'CLUSTERING', ['InspPG']);
    const cc = decodeConsumerConnection(
      (
        await c.invoke(
          addr,
          createRequest(RequestCode.GET_CONSUMER_CONNECTION_LIST, {
            extFields: ConsumerGroupRequestHeader.encode({ consumerGroup: 'InspG' }),
          }),
        )
      ).body,
    );
    assert.deepEqual(
      cc.connectionSet.map((x) => x.clientId),
      ['127.0.0.1@77'],
    );
    assert.ok(cc.subscriptionTable.has('Insp'));
    const offline = await c.invoke(
      addr,
      createRequest(RequestCode.GET_CONSUMER_CONNECTION_LIST, {
        extFields: ConsumerGroupRequestHeader.encode({ consumerGroup: 'Nobody' }),
      }),
    );
    assert.equal(offline.code, ResponseCode.CONSUMER_NOT_ONLINE);
    const pc = decodeProducerConnection(
      (
        await c.invoke(
          addr,
          createRequest(RequestCode.GET_PRODUCER_CONNECTION_LIST, {
            extFields: GetProducerConnectionListRequestHeader.encode({ producerGroup: 'InspPG' }),
          }),
        )
      ).body,
    );
    assert.deepEqual(
      pc.map((x) => x.clientId),
      ['127.0.0.1@77'],
    );

    const info = decodeKVTable(
      (await c.invoke(addr, createRequest(RequestCode.GET_BROKER_RUNTIME_INFO))).body,
    );
    assert.equal(info.get('brokerVersionDesc'), 'V4_9_8');
    assert.ok(Number(info.get('commitLogMaxOffset')) > 0);

    const cfg = propertiesToMap(
      parseProperties((await c.invoke(addr, createRequest(RequestCode.GET_BROKER_CONFIG))).body!.toString()),
    );
    assert.equal(cfg.get('brokerName'), 'broker-a');
    assert.equal(cfg.get('flushDiskType'), 'ASYNC_FLUSH');
  });

  test('UPDATE_BROKER_CONFIG changes allow-listed switches and refuses anything else, naming the key', async () => {
    const ok = await c.invoke(
      addr,
      createRequest(RequestCode.UPDATE_BROKER_CONFIG, { body: Buffer.from('autoCreateTopicEnable=false\n') }),
    );
    assert.equal(ok.code, ResponseCode.SUCCESS);
    assert.equal(broker.config.autoCreateTopicEnable, false);
    for (const line of [
      'storePathRootDir=/tmp/evil',
      'rocketmqHome=/x',
      'filterServerNums=1',
      'brokerConfigPath=/etc/passwd',
      'namesrvAddr=1.2.3.4:9876',
    ]) {
      const res = await c.invoke(
        addr,
        createRequest(RequestCode.UPDATE_BROKER_CONFIG, { body: Buffer.from(`traceOn=false\n${line}\n`) }),
      );
      assert.equal(res.code, ResponseCode.NO_PERMISSION, line);
      assert.match(res.remark!, new RegExp(`'${line.split('=')[0]}'`));
    }
    assert.equal(broker.config.traceOn, true, 'nothing of a refused request is applied');
    const badValue = await c.invoke(
      addr,
      createRequest(RequestCode.UPDATE_BROKER_CONFIG, { body: Buffer.from('defaultTopicQueueNums=lots\n') }),
    );
    assert.equal(badValue.code, ResponseCode.SYSTEM_ERROR);
    assert.match(badValue.remark!, /defaultTopicQueueNums/);
  });
});

describe('registration with NameServers', () => {
  test('a broker registers with every NameServer and unregisters at shutdown', async () => {
    const ns1 = await startNamesrv();
    const ns2 = await startNamesrv();
    const { broker } = await startBroker({ namesrvAddr: `${ns1.addr};${ns2.addr}` });
    const c = testClient();
    for (const ns of [ns1.addr, ns2.addr]) {
      const info = decodeClusterInfo(
        (await c.invoke(ns, createRequest(RequestCode.GET_BROKER_CLUSTER_INFO))).body,
      );
      assert.equal(info.brokerAddrTable.get('broker-a')?.brokerAddrs.get(0), broker.brokerAddr);
    }
    await broker.shutdown();
    for (const ns of [ns1.addr, ns2.addr]) {
      const info = decodeClusterInfo(
        (await c.invoke(ns, createRequest(RequestCode.GET_BROKER_CLUSTER_INFO))).body,
      );
      assert.equal(info.brokerAddrTable.has('broker-a'), false);
    }
  });
});
