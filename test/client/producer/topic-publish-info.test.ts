import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  topicRouteToPublishInfo,
  topicRouteToSubscribeInfo,
} from '../../../src/client/producer/topic-publish-info.js';
import type { TopicRouteData } from '../../../src/protocol/route-data.js';

function route(
  brokers: { name: string; read: number; write: number; perm?: number; master?: boolean }[],
  orderTopicConf?: string,
): TopicRouteData {
  return {
    orderTopicConf,
    queueDatas: brokers.map((b) => ({
      brokerName: b.name,
      readQueueNums: b.read,
      writeQueueNums: b.write,
      perm: b.perm ?? 6,
      topicSysFlag: 0,
    })),
    brokerDatas: brokers.map((b) => ({
      cluster: 'C',
      brokerName: b.name,
      brokerAddrs: new Map(b.master === false ? [[1, `${b.name}-slave:10911`]] : [[0, `${b.name}:10911`]]),
    })),
    filterServerTable: new Map(),
  };
}

const ids = (mqs: { brokerName: string; queueId: number }[]): string[] =>
  mqs.map((q) => `${q.brokerName}:${q.queueId}`);

describe('route -> queues', () => {
  test('writable queues of brokers with a master, sorted by broker name', () => {
    const info = topicRouteToPublishInfo(
      'T',
      route([
        { name: 'b', read: 2, write: 2 },
        { name: 'a', read: 4, write: 3 },
        { name: 'c', read: 2, write: 2, perm: 4 }, // read-only
        { name: 'd', read: 2, write: 2, master: false }, // no master
      ]),
    );
    assert.deepEqual(ids(info.messageQueueList), ['a:0', 'a:1', 'a:2', 'b:0', 'b:1']);
    assert.equal(info.orderTopic, false);
    assert.ok(info.ok());
    assert.equal(info.writeQueueNumsOf('a'), 3);
  });

  test('orderTopicConf decides the queues of an ordered topic', () => {
    const info = topicRouteToPublishInfo('T', route([{ name: 'a', read: 8, write: 8 }], 'a:2;b:1'));
    assert.deepEqual(ids(info.messageQueueList), ['a:0', 'a:1', 'b:0']);
    assert.equal(info.orderTopic, true);
  });

  test('subscribe side: readable queues by readQueueNums', () => {
    const mqs = topicRouteToSubscribeInfo(
      'T',
      route([
        { name: 'a', read: 4, write: 2 },
        { name: 'b', read: 1, write: 1, perm: 2 }, // write-only
      ]),
    );
    assert.deepEqual(ids(mqs), ['a:0', 'a:1', 'a:2', 'a:3']);
  });

  test('queue choice is round robin and a retry avoids the broker that failed', () => {
    const info = topicRouteToPublishInfo(
      'T',
      route([
        { name: 'a', read: 2, write: 2 },
        { name: 'b', read: 2, write: 2 },
      ]),
    );
    const picks = Array.from({ length: 8 }, () => info.selectOneMessageQueue());
    const counts = new Map<string, number>();
    for (const k of ids(picks)) counts.set(k, (counts.get(k) ?? 0) + 1);
    assert.deepEqual([...counts.values()], [2, 2, 2, 2], 'each queue twice in 8 picks');
    for (let i = 0; i < 20; i++) assert.equal(info.selectOneMessageQueue('a').brokerName, 'b');
    const onlyA = topicRouteToPublishInfo('T', route([{ name: 'a', read: 2, write: 2 }]));
    assert.equal(onlyA.selectOneMessageQueue('a').brokerName, 'a', 'no other broker: use it anyway');
  });
});
