import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequest, type RemotingCommand } from '../../src/remoting/remoting-command.js';
import { RequestCode } from '../../src/protocol/request-code.js';
import { ResponseCode } from '../../src/protocol/response-code.js';
import {
  QueryConsumerOffsetRequestHeader,
  SendMessageResponseHeader,
  UpdateConsumerOffsetRequestHeader,
} from '../../src/protocol/broker-headers.js';
import {
  decodeBrokerStatsData,
  decodeConsumeStatsList,
  decodeProducerTableInfo,
  decodeQueryConsumeQueueResponseBody,
  decodeQueryConsumeTimeSpanBody,
  decodeQueryCorrectionOffsetBody,
} from '../../src/protocol/admin-query-bodies.js';
import { decodeConsumerOffsetTable } from '../../src/protocol/admin-bodies.js';
import { decodeOffsetMsgId } from '../../src/common/message/message-id.js';
import { javaStringHashCode } from '../../src/common/java-hash.js';
import { Message, Producer } from '../../src/index.js';
import { startBroker } from '../helpers/broker.js';
import { startNamesrv } from '../helpers/namesrv.js';
import { createTopic, heartbeat, pull, send, testClient } from '../helpers/broker-calls.js';
import { waitFor } from '../helpers/wait.js';

describe('admin queries: time span, correction and cloned offsets, stats, consume queue, producers', async () => {
  const { addr: ns } = await startNamesrv();
  const { broker, addr, dir } = await startBroker({ namesrvAddr: ns });
  const c = testClient();
  const T = 'AdminQueryT';

  function call(code: number, extFields: Record<string, string> = {}): Promise<RemotingCommand> {
    return c.invoke(addr, createRequest(code, { extFields }));
  }

  async function commit(group: string, queueId: number, commitOffset: number, topic = T): Promise<void> {
    const r = await call(
      RequestCode.UPDATE_CONSUMER_OFFSET,
      UpdateConsumerOffsetRequestHeader.encode({ consumerGroup: group, topic, queueId, commitOffset }),
    );
    assert.equal(r.code, ResponseCode.SUCCESS);
  }

  async function committed(group: string, queueId: number, topic = T): Promise<number> {
    const r = await call(
      RequestCode.QUERY_CONSUMER_OFFSET,
      QueryConsumerOffsetRequestHeader.encode({ consumerGroup: group, topic, queueId }),
    );
    return r.code === ResponseCode.SUCCESS ? Number(r.extFields!.offset) : -1;
  }

  // Two queues: three messages in queue 0 (tags A, B, A), two in queue 1.
  assert.equal((await createTopic(c, addr, T, 2)).code, ResponseCode.SUCCESS);
  const sent: { queueId: number; tags: string; phyOffset: number }[] = [];
  for (const [queueId, tags] of [
    [0, 'TagA'],
    [0, 'TagB'],
    [0, 'TagA'],
    [1, 'TagA'],
    [1, 'TagC'],
  ] as const) {
    const r = await send(c, addr, { topic: T, queueId, tags, body: `m-${sent.length}` });
    assert.equal(r.code, ResponseCode.SUCCESS);
    const h = SendMessageResponseHeader.decode(r.extFields);
    assert.ok(h.ok);
    sent.push({ queueId, tags, phyOffset: decodeOffsetMsgId(h.value.msgId).offset });
  }
  const storeTime = (q: number, offset: number): Promise<number> =>
    broker.store.getMessageStoreTimeStamp(T, q, offset);
  const unitSize = async (q: number, offset: number): Promise<number> =>
    (await broker.store.getUnit(T, q, offset))![1];

  // CG1 consumed everything but the last message of queue 0 (pulled all three there).
  const pulled = await pull(c, addr, { topic: T, group: 'CG1', queueId: 0 });
  assert.equal(pulled.code, ResponseCode.SUCCESS);
  await commit('CG1', 0, 2);
  await commit('CG1', 1, 2);
  await commit('CG2', 0, 1);
  await commit('CG2', 1, 2);
  await commit('CG3', 0, 3);
  await commit('CG3', 1, 0);

  test('QUERY_CONSUME_TIME_SPAN: store times of the first, last and last consumed message per queue', async () => {
    const before = Date.now();
    const r = await call(RequestCode.QUERY_CONSUME_TIME_SPAN, { topic: T, group: 'CG2' });
    assert.equal(r.code, ResponseCode.SUCCESS);
    assert.match(r.body!.toString(), /"minTimeStampStr":"\d{4}-\d\d-\d\d#\d\d:\d\d:\d\d:\d{3}"/);
    const spans = decodeQueryConsumeTimeSpanBody(r.body);
    assert.equal(spans.length, 2);
    const [q0, q1] = spans;
    assert.deepEqual(q0!.messageQueue, { topic: T, brokerName: 'broker-a', queueId: 0 });
    assert.equal(q0!.minTimeStamp, await storeTime(0, 0));
    assert.equal(q0!.maxTimeStamp, await storeTime(0, 2));
    assert.equal(q0!.consumeTimeStamp, await storeTime(0, 0), 'CG2 committed 1: last consumed is offset 0');
    // The next message (offset 1) has waited since it was stored.
    const next = await storeTime(0, 1);
    assert.ok(q0!.delayTime >= before - next && q0!.delayTime <= Date.now() - next + 5, `${q0!.delayTime}`);
    assert.equal(q1!.minTimeStamp, await storeTime(1, 0));
    assert.equal(q1!.maxTimeStamp, await storeTime(1, 1));
    assert.equal(q1!.consumeTimeStamp, await storeTime(1, 1));
    assert.equal(q1!.delayTime, 0, 'caught up: no delay');

    const none = await call(RequestCode.QUERY_CONSUME_TIME_SPAN, { topic: 'NoSuchTopic', group: 'CG2' });
    assert.equal(none.code, ResponseCode.TOPIC_NOT_EXIST);
    assert.equal(none.remark, 'topic[NoSuchTopic] not exist');
    const bad = await call(RequestCode.QUERY_CONSUME_TIME_SPAN, { topic: T });
    assert.equal(bad.code, ResponseCode.SYSTEM_ERROR);
    assert.match(bad.remark!, /group/);
  });

  test('QUERY_CORRECTION_OFFSET: minimum over the other groups, Long.MAX_VALUE where the compare group is behind', async () => {
    const r = await call(RequestCode.QUERY_CORRECTION_OFFSET, {
      topic: T,
      compareGroup: 'CG2',
      filterGroups: 'CG2',
    });
    assert.equal(r.code, ResponseCode.SUCCESS);
    // CG1 (2,2) and CG3 (3,0): minimum (2,0); CG2 (1,2) is behind on queue 0 only.
    assert.match(r.body!.toString(), /\{0:9223372036854775807,1:0\}/);
    const offsets = decodeQueryCorrectionOffsetBody(r.body);
    assert.ok(offsets.get(0)! >= Number.MAX_SAFE_INTEGER);
    assert.equal(offsets.get(1), 0);
    assert.equal(await committed('CG2', 0), 1, 'the filtered group keeps its offsets');

    const all = decodeQueryCorrectionOffsetBody(
      (await call(RequestCode.QUERY_CORRECTION_OFFSET, { topic: T, compareGroup: 'CG2' })).body,
    );
    assert.deepEqual(
      [...all],
      [
        [0, 1],
        [1, 0],
      ],
    );

    const bad = await call(RequestCode.QUERY_CORRECTION_OFFSET, { topic: T });
    assert.equal(bad.code, ResponseCode.SYSTEM_ERROR);
    assert.match(bad.remark!, /compareGroup/);
  });

  test('CLONE_GROUP_OFFSET: copies one topic or every topic of the source group, and persists', async () => {
    const r = await call(RequestCode.CLONE_GROUP_OFFSET, {
      srcGroup: 'CG2',
      destGroup: 'CG2-copy',
      topic: T,
      offline: 'true',
    });
    assert.equal(r.code, ResponseCode.SUCCESS);
    assert.deepEqual([await committed('CG2-copy', 0), await committed('CG2-copy', 1)], [1, 2]);

    // No topic: every topic the source group has offsets on.
    await commit('CG3', 0, 0, 'TBW102');
    const all = await call(RequestCode.CLONE_GROUP_OFFSET, { srcGroup: 'CG3', destGroup: 'CG3-copy' });
    assert.equal(all.code, ResponseCode.SUCCESS);
    assert.deepEqual([await committed('CG3-copy', 0), await committed('CG3-copy', 1)], [3, 0]);
    assert.equal(await committed('CG3-copy', 0, 'TBW102'), 0);

    const file = decodeConsumerOffsetTable(
      readFileSync(join(dir, 'store', 'config', 'consumerOffset.json'), 'utf8'),
    );
    assert.deepEqual(
      [...(file.get(`${T}@CG2-copy`) ?? [])],
      [
        [0, 1],
        [1, 2],
      ],
    );

    // An online source group that does not subscribe to the topic is skipped unless offline.
    await commit('CG-online', 0, 2);
    assert.equal((await heartbeat(c, addr, 'client-online', 'CG-online', { Other: '*' })).code, 0);
    await call(RequestCode.CLONE_GROUP_OFFSET, { srcGroup: 'CG-online', destGroup: 'CG-o1', topic: T });
    assert.equal(broker.offsets.query('CG-o1', T, 0), -1, 'nothing cloned');
    await call(RequestCode.CLONE_GROUP_OFFSET, {
      srcGroup: 'CG-online',
      destGroup: 'CG-o2',
      topic: T,
      offline: 'true',
    });
    assert.equal(await committed('CG-o2', 0), 2);

    const bad = await call(RequestCode.CLONE_GROUP_OFFSET, { srcGroup: 'CG2' });
    assert.equal(bad.code, ResponseCode.SYSTEM_ERROR);
    assert.match(bad.remark!, /destGroup/);
  });

  test('VIEW_BROKER_STATS_DATA: put and get counts per topic and group over the minute, hour and day', async () => {
    const nums = await call(RequestCode.VIEW_BROKER_STATS_DATA, { statsName: 'TOPIC_PUT_NUMS', statsKey: T });
    assert.equal(nums.code, ResponseCode.SUCCESS);
    const n = decodeBrokerStatsData(nums.body);
    for (const w of [n.statsMinute, n.statsHour, n.statsDay]) {
      assert.equal(w.sum, 5);
      assert.equal(w.avgpt, 1, 'one message per put');
      assert.ok(w.tps > 0);
    }
    let bytes = 0;
    for (const [q, count] of [
      [0, 3],
      [1, 2],
    ]) {
      for (let i = 0; i < count!; i++) bytes += await unitSize(q!, i);
    }
    const size = decodeBrokerStatsData(
      (await call(RequestCode.VIEW_BROKER_STATS_DATA, { statsName: 'TOPIC_PUT_SIZE', statsKey: T })).body,
    );
    assert.equal(size.statsMinute.sum, bytes);

    const got = decodeBrokerStatsData(
      (await call(RequestCode.VIEW_BROKER_STATS_DATA, { statsName: 'GROUP_GET_NUMS', statsKey: `${T}@CG1` }))
        .body,
    );
    assert.equal(got.statsMinute.sum, 3);
    const gotSize = decodeBrokerStatsData(
      (await call(RequestCode.VIEW_BROKER_STATS_DATA, { statsName: 'GROUP_GET_SIZE', statsKey: `${T}@CG1` }))
        .body,
    );
    assert.equal(
      gotSize.statsDay.sum,
      (await unitSize(0, 0)) + (await unitSize(0, 1)) + (await unitSize(0, 2)),
    );
    const brokerPuts = decodeBrokerStatsData(
      (
        await call(RequestCode.VIEW_BROKER_STATS_DATA, {
          statsName: 'BROKER_PUT_NUMS',
          statsKey: 'DefaultCluster',
        })
      ).body,
    );
    assert.equal(brokerPuts.statsMinute.sum, 5);

    for (const [statsName, statsKey] of [
      ['NO_SUCH_STATS', T],
      ['TOPIC_PUT_NUMS', 'NeverSent'],
      ['BROKER_PUT_NUMS', 'OtherCluster'],
    ]) {
      const r = await call(RequestCode.VIEW_BROKER_STATS_DATA, {
        statsName: statsName!,
        statsKey: statsKey!,
      });
      assert.equal(r.code, ResponseCode.SYSTEM_ERROR);
      assert.equal(r.remark, `The stats <${statsName}> <${statsKey}> not exist`);
    }
    const bad = await call(RequestCode.VIEW_BROKER_STATS_DATA, { statsName: 'TOPIC_PUT_NUMS' });
    assert.equal(bad.code, ResponseCode.SYSTEM_ERROR);
    assert.match(bad.remark!, /statsKey/);
  });

  test('GET_BROKER_CONSUME_STATS: every subscription group, its lag per topic, and the total', async () => {
    const r = await call(RequestCode.GET_BROKER_CONSUME_STATS, { isOrder: 'false' });
    assert.equal(r.code, ResponseCode.SUCCESS);
    const l = decodeConsumeStatsList(r.body);
    assert.equal(l.brokerAddr, addr);
    const groups = l.consumeStatsList.flatMap((m) => [...m.keys()]);
    assert.deepEqual(new Set(groups), new Set(broker.groups.all().keys()));
    const cg1 = l.consumeStatsList.find((m) => m.has('CG1'))!.get('CG1')!;
    assert.equal(cg1.length, 1);
    assert.deepEqual(
      cg1[0]!.offsetTable.map(([mq, w]) => [mq.topic, mq.queueId, w.brokerOffset, w.consumerOffset]),
      [
        [T, 0, 3, 2],
        [T, 1, 2, 2],
      ],
    );
    assert.equal(cg1[0]!.offsetTable[0]![1].lastTimestamp, await storeTime(0, 1));
    assert.ok(cg1[0]!.consumeTps > 0, 'CG1 pulled three messages within the minute');
    let diff = 0;
    for (const m of l.consumeStatsList) {
      for (const stats of m.values()) {
        for (const s of stats) for (const [, w] of s.offsetTable) diff += w.brokerOffset - w.consumerOffset;
      }
    }
    assert.equal(l.totalDiff, diff);
    assert.ok(diff >= 1);

    // Ordered only: CG1's offsets on an ordered topic, not on T.
    assert.equal((await createTopic(c, addr, 'AdminQueryOrdered', 1, 6, true)).code, ResponseCode.SUCCESS);
    await commit('CG1', 0, 0, 'AdminQueryOrdered');
    const ordered = decodeConsumeStatsList(
      (await call(RequestCode.GET_BROKER_CONSUME_STATS, { isOrder: 'true' })).body,
    );
    const cg1o = ordered.consumeStatsList.find((m) => m.has('CG1'))!.get('CG1')!;
    assert.deepEqual(
      cg1o.map((s) => s.offsetTable[0]![0].topic),
      ['AdminQueryOrdered'],
    );

    const bad = await call(RequestCode.GET_BROKER_CONSUME_STATS);
    assert.equal(bad.code, ResponseCode.SYSTEM_ERROR);
    assert.match(bad.remark!, /isOrder/);
  });

  test('QUERY_CONSUME_QUEUE: units point at the stored messages with their tag codes', async () => {
    assert.equal((await heartbeat(c, addr, 'client-sub', 'CG-sub', { [T]: 'TagA' })).code, 0);
    const r = await call(RequestCode.QUERY_CONSUME_QUEUE, {
      topic: T,
      queueId: '0',
      index: '0',
      count: '10',
      consumerGroup: 'CG-sub',
    });
    assert.equal(r.code, ResponseCode.SUCCESS);
    const body = decodeQueryConsumeQueueResponseBody(r.body);
    assert.equal(body.minQueueIndex, 0);
    assert.equal(body.maxQueueIndex, 3);
    assert.equal(body.subscriptionData?.subString, 'TagA');
    assert.equal(body.filterData, 'null');
    const inQueue0 = sent.filter((s) => s.queueId === 0);
    assert.deepEqual(
      body.queueData!.map((u) => [u.physicOffset, u.tagsCode, u.eval]),
      inQueue0.map((s) => [s.phyOffset, javaStringHashCode(s.tags), false]),
    );
    for (let i = 0; i < 3; i++) assert.equal(body.queueData![i]!.physicSize, await unitSize(0, i));
    // Each unit's commitlog offset holds that message.
    const m = await broker.store.lookMessageByOffset(body.queueData![1]!.physicOffset);
    assert.equal(m?.properties.get('TAGS'), 'TagB');

    const one = decodeQueryConsumeQueueResponseBody(
      (
        await call(RequestCode.QUERY_CONSUME_QUEUE, {
          topic: T,
          queueId: '1',
          index: '1',
          count: '1',
          consumerGroup: 'CG-offline',
        })
      ).body,
    );
    assert.deepEqual(
      one.queueData!.map((u) => u.physicOffset),
      [sent[4]!.phyOffset],
    );
    assert.equal(one.filterData, `CG-offline@${T} is not online!`);
    assert.equal(one.subscriptionData, undefined);

    const past = await call(RequestCode.QUERY_CONSUME_QUEUE, {
      topic: T,
      queueId: '0',
      index: '5',
      count: '1',
    });
    assert.equal(past.code, ResponseCode.SUCCESS);
    assert.equal(past.remark, `Index 5 of 0@${T} is not exist!`);
    assert.equal(past.body, undefined);
    const noQueue = await call(RequestCode.QUERY_CONSUME_QUEUE, {
      topic: T,
      queueId: '7',
      index: '0',
      count: '1',
    });
    assert.equal(noQueue.code, ResponseCode.SYSTEM_ERROR);
    assert.equal(noQueue.remark, `7@${T} is not exist!`);
    const bad = await call(RequestCode.QUERY_CONSUME_QUEUE, {
      topic: T,
      queueId: '0',
      index: 'x',
      count: '1',
    });
    assert.equal(bad.code, ResponseCode.SYSTEM_ERROR);
    assert.match(bad.remark!, /index/);
  });

  test('GET_ALL_PRODUCER_INFO: lists the producers online by group', async () => {
    const producer = new Producer({
      producerGroup: 'PG-admin-query',
      namesrvAddr: ns,
      instanceName: 'admin-query-producer',
      heartbeatBrokerInterval: 200,
    });
    await producer.start();
    try {
      await producer.send(new Message(T, 'from the SDK'));
      const infos = await waitFor(async () => {
        const r = await call(RequestCode.GET_ALL_PRODUCER_INFO);
        assert.equal(r.code, ResponseCode.SUCCESS);
        return decodeProducerTableInfo(r.body).get('PG-admin-query');
      }, 'the producer heartbeat');
      assert.equal(infos.length, 1);
      assert.equal(infos[0]!.clientId, producer.clientId);
      assert.match(infos[0]!.remoteIP, /^\/127\.0\.0\.1:\d+$/);
      assert.ok(infos[0]!.language.length > 0);
      assert.ok(infos[0]!.version > 0);
      assert.ok(Math.abs(infos[0]!.lastUpdateTimestamp - Date.now()) < 10_000);
    } finally {
      await producer.shutdown();
    }
  });
});
