import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import { getLogger } from '../../src/common/logger.js';
import { RemotingClient } from '../../src/remoting/remoting-client.js';
import { createRequest, type RemotingCommand } from '../../src/remoting/remoting-command.js';
import { RequestCode } from '../../src/protocol/request-code.js';
import { ResponseCode } from '../../src/protocol/response-code.js';
import * as H from '../../src/protocol/namesrv-headers.js';
import {
  decodeClusterInfo,
  decodeKVTable,
  decodeTopicList,
  decodeTopicRouteData,
  encodeRegisterBrokerBody,
} from '../../src/protocol/route-data.js';
import { newTopicConfig, type TopicConfig } from '../../src/protocol/topic-config.js';
import { startNamesrv } from '../helpers/namesrv.js';
import { waitFor } from '../helpers/wait.js';

const log = getLogger('test.namesrv');

function client(): RemotingClient {
  const c = new RemotingClient({ log });
  after(() => c.close());
  return c;
}

interface BrokerSpec {
  cluster?: string;
  name: string;
  addr: string;
  id?: number;
  topics?: TopicConfig[];
  counter?: number;
  compressed?: boolean;
}

function registerRequest(b: BrokerSpec, version = 409): RemotingCommand {
  const body = encodeRegisterBrokerBody(
    {
      topicConfigSerializeWrapper: {
        topicConfigTable: new Map((b.topics ?? []).map((t) => [t.topicName, t])),
        dataVersion: { timestamp: 1000, counter: b.counter ?? 1 },
      },
      filterServerList: [],
    },
    b.compressed ?? false,
  );
  const req = createRequest(RequestCode.REGISTER_BROKER, {
    extFields: H.RegisterBrokerRequestHeader.encode({
      brokerName: b.name,
      brokerAddr: b.addr,
      clusterName: b.cluster ?? 'DefaultCluster',
      haServerAddr: b.addr.replace(/:(\d+)$/, (_, p: string) => `:${Number(p) + 1}`),
      brokerId: b.id ?? 0,
      compressed: b.compressed ?? false,
      bodyCrc32: crc32(body) & 0x7fffffff,
    }),
    body,
  });
  req.version = version;
  return req;
}

function routeRequest(topic: string, version: number): RemotingCommand {
  const req = createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, {
    extFields: H.GetRouteInfoRequestHeader.encode({ topic }),
  });
  req.version = version;
  return req;
}

describe('NameServer over loopback', async () => {
  const { addr } = await startNamesrv();
  const c = client();

  test('REGISTER_BROKER then GET_ROUTEINFO_BY_TOPIC, in both JSON styles', async () => {
    const res = await c.invoke(
      addr,
      registerRequest({
        name: 'broker-a',
        addr: '127.0.0.1:10911',
        topics: [newTopicConfig('TopicTest', { readQueueNums: 4, writeQueueNums: 4 })],
      }),
    );
    assert.equal(res.code, ResponseCode.SUCCESS);

    const std = await c.invoke(addr, routeRequest('TopicTest', 409));
    assert.equal(std.code, ResponseCode.SUCCESS);
    const stdText = std.body!.toString();
    assert.match(stdText, /"brokerAddrs":\{"0":"127\.0\.0\.1:10911"\}/, 'quoted ids for >= 4.9.4 clients');
    JSON.parse(stdText);

    const legacy = await c.invoke(addr, routeRequest('TopicTest', 121));
    const legacyText = legacy.body!.toString();
    assert.match(
      legacyText,
      /"brokerAddrs":\{0:"127\.0\.0\.1:10911"\}/,
      'fastjson form for old clients (ali-ons)',
    );

    for (const body of [std.body, legacy.body]) {
      const route = decodeTopicRouteData(body);
      assert.deepEqual(route.queueDatas, [
        { brokerName: 'broker-a', readQueueNums: 4, writeQueueNums: 4, perm: 6, topicSysFlag: 0 },
      ]);
      assert.equal(route.brokerDatas[0]!.brokerAddrs.get(0), '127.0.0.1:10911');
      assert.equal(route.brokerDatas[0]!.cluster, 'DefaultCluster');
    }

    const optIn = createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, {
      extFields: H.GetRouteInfoRequestHeader.encode({ topic: 'TopicTest', acceptStandardJsonOnly: true }),
    });
    optIn.version = 121;
    JSON.parse((await c.invoke(addr, optIn)).body!.toString());
  });

  test('unknown topic answers TOPIC_NOT_EXIST with upstream remark', async () => {
    const res = await c.invoke(addr, routeRequest('NoSuchTopic', 409));
    assert.equal(res.code, ResponseCode.TOPIC_NOT_EXIST);
    assert.match(res.remark!, /^No topic route info in name server for the topic: NoSuchTopic/);
  });

  test('compressed register bodies, cluster info, topic lists, topics by cluster', async () => {
    const res = await c.invoke(
      addr,
      registerRequest({
        cluster: 'C2',
        name: 'broker-b',
        addr: '127.0.0.1:20911',
        compressed: true,
        topics: [
          newTopicConfig('OrderTopic', { readQueueNums: 8, writeQueueNums: 8 }),
          newTopicConfig('TopicTest'),
        ],
      }),
    );
    assert.equal(res.code, ResponseCode.SUCCESS);
    const route = decodeTopicRouteData((await c.invoke(addr, routeRequest('TopicTest', 409))).body);
    assert.deepEqual(route.brokerDatas.map((b) => b.brokerName).sort(), ['broker-a', 'broker-b']);

    const ci = await c.invoke(addr, createRequest(RequestCode.GET_BROKER_CLUSTER_INFO));
    assert.match(
      ci.body!.toString(),
      /\{0:"127\.0\.0\.1:20911"\}/,
      'cluster info keeps fastjson integer keys',
    );
    const info = decodeClusterInfo(ci.body);
    assert.deepEqual(info.clusterAddrTable.get('C2'), ['broker-b']);
    assert.deepEqual(info.clusterAddrTable.get('DefaultCluster'), ['broker-a']);
    assert.equal(info.brokerAddrTable.get('broker-b')!.brokerAddrs.get(0), '127.0.0.1:20911');

    const all = decodeTopicList(
      (await c.invoke(addr, createRequest(RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER))).body,
    );
    assert.deepEqual(all.topicList.sort(), ['OrderTopic', 'TopicTest']);
    const byCluster = decodeTopicList(
      (
        await c.invoke(
          addr,
          createRequest(RequestCode.GET_TOPICS_BY_CLUSTER, {
            extFields: H.GetTopicsByClusterRequestHeader.encode({ cluster: 'C2' }),
          }),
        )
      ).body,
    );
    assert.deepEqual(byCluster.topicList.sort(), ['OrderTopic', 'TopicTest']);
  });

  test('a slave learns its master and HA address; only the master updates queue data', async () => {
    await c.invoke(
      addr,
      registerRequest({
        name: 'broker-c',
        addr: '127.0.0.1:30911',
        topics: [newTopicConfig('SlaveT', { writeQueueNums: 2, readQueueNums: 2 })],
      }),
    );
    const res = await c.invoke(
      addr,
      registerRequest({
        name: 'broker-c',
        addr: '127.0.0.1:30921',
        id: 1,
        topics: [newTopicConfig('SlaveT', { writeQueueNums: 9, readQueueNums: 9 })],
        counter: 7,
      }),
    );
    assert.equal(res.extFields?.masterAddr, '127.0.0.1:30911');
    assert.equal(res.extFields?.haServerAddr, '127.0.0.1:30912');
    const route = decodeTopicRouteData((await c.invoke(addr, routeRequest('SlaveT', 409))).body);
    assert.equal(route.queueDatas[0]!.writeQueueNums, 2);
    assert.deepEqual([...route.brokerDatas[0]!.brokerAddrs].sort(), [
      [0, '127.0.0.1:30911'],
      [1, '127.0.0.1:30921'],
    ]);
  });

  test('a register body whose crc32 does not match is refused', async () => {
    const req = registerRequest({ name: 'broker-x', addr: '127.0.0.1:40911', topics: [newTopicConfig('X')] });
    req.extFields!.bodyCrc32 = '12345';
    const res = await c.invoke(addr, req);
    assert.equal(res.code, ResponseCode.SYSTEM_ERROR);
    assert.equal(res.remark, 'crc32 not match');
  });

  test('a missing required header field answers SYSTEM_ERROR naming it', async () => {
    const res = await c.invoke(addr, createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { extFields: {} }));
    assert.equal(res.code, ResponseCode.SYSTEM_ERROR);
    assert.match(res.remark!, /missing required field topic/);
  });

  test('a garbage register body answers SYSTEM_ERROR and keeps serving', async () => {
    const req = registerRequest({ name: 'broker-y', addr: '127.0.0.1:50911' });
    req.body = Buffer.from('{{{{');
    delete req.extFields!.bodyCrc32;
    const res = await c.invoke(addr, req);
    assert.equal(res.code, ResponseCode.SYSTEM_ERROR);
    assert.match(res.remark!, /Failed to decode RegisterBrokerBody/);
    assert.equal((await c.invoke(addr, routeRequest('TopicTest', 409))).code, ResponseCode.SUCCESS);
  });

  test('DELETE_TOPIC_IN_NAMESRV removes a topic (for one cluster or everywhere)', async () => {
    await c.invoke(
      addr,
      registerRequest({
        name: 'broker-a',
        addr: '127.0.0.1:10911',
        counter: 2,
        topics: [newTopicConfig('TopicTest'), newTopicConfig('Doomed')],
      }),
    );
    assert.equal((await c.invoke(addr, routeRequest('Doomed', 409))).code, ResponseCode.SUCCESS);
    const del = await c.invoke(
      addr,
      createRequest(RequestCode.DELETE_TOPIC_IN_NAMESRV, {
        extFields: H.DeleteTopicFromNamesrvRequestHeader.encode({
          topic: 'Doomed',
          clusterName: 'DefaultCluster',
        }),
      }),
    );
    assert.equal(del.code, ResponseCode.SUCCESS);
    assert.equal((await c.invoke(addr, routeRequest('Doomed', 409))).code, ResponseCode.TOPIC_NOT_EXIST);
  });

  test('WIPE and ADD write permission of a broker', async () => {
    const wipe = await c.invoke(
      addr,
      createRequest(RequestCode.WIPE_WRITE_PERM_OF_BROKER, {
        extFields: H.WipeWritePermOfBrokerRequestHeader.encode({ brokerName: 'broker-b' }),
      }),
    );
    assert.equal(wipe.extFields?.wipeTopicCount, '2');
    let route = decodeTopicRouteData((await c.invoke(addr, routeRequest('OrderTopic', 409))).body);
    assert.equal(route.queueDatas[0]!.perm, 4);
    const add = await c.invoke(
      addr,
      createRequest(RequestCode.ADD_WRITE_PERM_OF_BROKER, {
        extFields: H.AddWritePermOfBrokerRequestHeader.encode({ brokerName: 'broker-b' }),
      }),
    );
    assert.equal(add.extFields?.addTopicCount, '2');
    route = decodeTopicRouteData((await c.invoke(addr, routeRequest('OrderTopic', 409))).body);
    assert.equal(route.queueDatas[0]!.perm, 6);
  });

  test('UNREGISTER_BROKER drops the broker and the topics only it served', async () => {
    await c.invoke(
      addr,
      registerRequest({ name: 'broker-z', addr: '127.0.0.1:60911', topics: [newTopicConfig('OnlyZ')] }),
    );
    assert.equal((await c.invoke(addr, routeRequest('OnlyZ', 409))).code, ResponseCode.SUCCESS);
    const res = await c.invoke(
      addr,
      createRequest(RequestCode.UNREGISTER_BROKER, {
        extFields: H.UnRegisterBrokerRequestHeader.encode({
          brokerName: 'broker-z',
          brokerAddr: '127.0.0.1:60911',
          clusterName: 'DefaultCluster',
          brokerId: 0,
        }),
      }),
    );
    assert.equal(res.code, ResponseCode.SUCCESS);
    assert.equal((await c.invoke(addr, routeRequest('OnlyZ', 409))).code, ResponseCode.TOPIC_NOT_EXIST);
    const info = decodeClusterInfo(
      (await c.invoke(addr, createRequest(RequestCode.GET_BROKER_CLUSTER_INFO))).body,
    );
    assert.equal(info.brokerAddrTable.has('broker-z'), false);
  });

  test('QUERY_DATA_VERSION reports whether the broker topic config changed', async () => {
    const query = (counter: number): RemotingCommand =>
      createRequest(RequestCode.QUERY_DATA_VERSION, {
        extFields: H.QueryDataVersionRequestHeader.encode({
          brokerName: 'broker-a',
          brokerAddr: '127.0.0.1:10911',
          clusterName: 'DefaultCluster',
          brokerId: 0,
        }),
        body: Buffer.from(JSON.stringify({ timestamp: 1000, counter })),
      });
    assert.equal((await c.invoke(addr, query(2))).extFields?.changed, 'false');
    assert.equal((await c.invoke(addr, query(3))).extFields?.changed, 'true');
  });
});

describe('NameServer liveness', () => {
  test("a broker's routes vanish at once when its connection closes", async () => {
    const { addr } = await startNamesrv();
    const brokerSide = client();
    await brokerSide.invoke(
      addr,
      registerRequest({ name: 'b1', addr: '127.0.0.1:11111', topics: [newTopicConfig('T1')] }),
    );
    const reader = client();
    assert.equal((await reader.invoke(addr, routeRequest('T1', 409))).code, ResponseCode.SUCCESS);
    brokerSide.close();
    await waitFor(
      async () => (await reader.invoke(addr, routeRequest('T1', 409))).code === ResponseCode.TOPIC_NOT_EXIST,
      'route removal',
    );
  });

  test('a broker silent past the expiry is dropped by the scan', async () => {
    const { addr, namesrv } = await startNamesrv({ brokerChannelExpiredMs: 300, scanIntervalMs: 100 });
    const brokerSide = client();
    await brokerSide.invoke(
      addr,
      registerRequest({ name: 'b2', addr: '127.0.0.1:22222', topics: [newTopicConfig('T2')] }),
    );
    assert.deepEqual(namesrv.routes.liveBrokers(), ['127.0.0.1:22222']);
    await waitFor(() => namesrv.routes.liveBrokers().length === 0, 'expiry');
    const reader = client();
    assert.equal((await reader.invoke(addr, routeRequest('T2', 409))).code, ResponseCode.TOPIC_NOT_EXIST);
  });

  test('a broker that keeps registering stays alive', async () => {
    const { addr, namesrv } = await startNamesrv({ brokerChannelExpiredMs: 400, scanIntervalMs: 100 });
    const brokerSide = client();
    const started = Date.now();
    while (Date.now() - started < 1200) {
      await brokerSide.invoke(
        addr,
        registerRequest({ name: 'b3', addr: '127.0.0.1:33333', topics: [newTopicConfig('T3')] }),
      );
      assert.deepEqual(namesrv.routes.liveBrokers(), ['127.0.0.1:33333']);
      await new Promise((r) => setTimeout(r, 100));
    }
  });
});

describe('KV config', () => {
  test('PUT/GET/DELETE/GET_KVLIST survive a restart through kvConfig.json', async () => {
    const first = await startNamesrv();
    const c = client();
    const put = (namespace: string, key: string, value: string) =>
      c.invoke(
        first.addr,
        createRequest(RequestCode.PUT_KV_CONFIG, {
          extFields: H.PutKVConfigRequestHeader.encode({ namespace, key, value }),
        }),
      );
    assert.equal(
      (await put('ORDER_TOPIC_CONFIG', 'OrderTopic', 'broker-a:4;broker-b:4')).code,
      ResponseCode.SUCCESS,
    );
    await put('NS', 'k1', 'v1');
    await put('NS', 'k2', 'v2');
    await c.invoke(
      first.addr,
      createRequest(RequestCode.DELETE_KV_CONFIG, {
        extFields: H.DeleteKVConfigRequestHeader.encode({ namespace: 'NS', key: 'k2' }),
      }),
    );
    await first.namesrv.shutdown();

    const second = await startNamesrv({ dir: first.dir });
    const get = await c.invoke(
      second.addr,
      createRequest(RequestCode.GET_KV_CONFIG, {
        extFields: H.GetKVConfigRequestHeader.encode({ namespace: 'NS', key: 'k1' }),
      }),
    );
    assert.equal(get.code, ResponseCode.SUCCESS);
    assert.equal(get.extFields?.value, 'v1');
    const gone = await c.invoke(
      second.addr,
      createRequest(RequestCode.GET_KV_CONFIG, {
        extFields: H.GetKVConfigRequestHeader.encode({ namespace: 'NS', key: 'k2' }),
      }),
    );
    assert.equal(gone.code, ResponseCode.QUERY_NOT_FOUND);
    assert.equal(gone.remark, 'No config item, Namespace: NS Key: k2');
    const list = await c.invoke(
      second.addr,
      createRequest(RequestCode.GET_KVLIST_BY_NAMESPACE, {
        extFields: H.GetKVListByNamespaceRequestHeader.encode({ namespace: 'NS' }),
      }),
    );
    assert.deepEqual([...decodeKVTable(list.body)], [['k1', 'v1']]);
    const none = await c.invoke(
      second.addr,
      createRequest(RequestCode.GET_KVLIST_BY_NAMESPACE, {
        extFields: H.GetKVListByNamespaceRequestHeader.encode({ namespace: 'Nope' }),
      }),
    );
    assert.equal(none.code, ResponseCode.QUERY_NOT_FOUND);

    // A registering broker receives the ORDER_TOPIC_CONFIG namespace as its reply body.
    const reg = await c.invoke(
      second.addr,
      registerRequest({ name: 'b', addr: '127.0.0.1:10000', topics: [newTopicConfig('OrderTopic')] }),
    );
    assert.deepEqual([...decodeKVTable(reg.body)], [['OrderTopic', 'broker-a:4;broker-b:4']]);
  });
});
