import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MQFaultStrategy, notAvailableDuration } from '../../../src/client/producer/mq-fault-strategy.js';
import { topicRouteToPublishInfo } from '../../../src/client/producer/topic-publish-info.js';
import type { TopicRouteData } from '../../../src/protocol/route-data.js';

const route: TopicRouteData = {
  queueDatas: ['a', 'b'].map((brokerName) => ({
    brokerName,
    readQueueNums: 2,
    writeQueueNums: 2,
    perm: 6,
    topicSysFlag: 0,
  })),
  brokerDatas: ['a', 'b'].map((brokerName) => ({
    cluster: 'C',
    brokerName,
    brokerAddrs: new Map([[0, `${brokerName}:1`]]),
  })),
  filterServerTable: new Map(),
};

describe('latency fault tolerance', () => {
  test('latency steps map to pauses as upstream', () => {
    assert.equal(notAvailableDuration(10), 0);
    assert.equal(notAvailableDuration(100), 0);
    assert.equal(notAvailableDuration(550), 30_000);
    assert.equal(notAvailableDuration(2500), 120_000);
    assert.equal(notAvailableDuration(30_000), 600_000);
  });

  test('a failed broker is avoided until its pause ends', () => {
    let now = 1_000_000;
    const f = new MQFaultStrategy(true, () => now);
    const info = topicRouteToPublishInfo('T', route);
    f.updateFaultItem('b', 5, true);
    assert.equal(f.isAvailable('b'), false);
    for (let i = 0; i < 20; i++) assert.equal(f.selectOneMessageQueue(info, undefined).brokerName, 'a');
    now += 600_000;
    assert.equal(f.isAvailable('b'), true);
    const brokers = new Set(
      Array.from({ length: 8 }, () => f.selectOneMessageQueue(info, undefined).brokerName),
    );
    assert.deepEqual(brokers, new Set(['a', 'b']));
  });

  test('a slow answer pauses a broker; a fast one does not', () => {
    const now = 0;
    const f = new MQFaultStrategy(true, () => now);
    f.updateFaultItem('a', 20, false);
    assert.equal(f.isAvailable('a'), true);
    f.updateFaultItem('a', 600, false);
    assert.equal(f.isAvailable('a'), false);
  });

  test('with every broker paused a queue is still chosen', () => {
    const f = new MQFaultStrategy(true, () => 0);
    const info = topicRouteToPublishInfo('T', route);
    f.updateFaultItem('a', 5, true);
    f.updateFaultItem('b', 5, true);
    const mq = f.selectOneMessageQueue(info, undefined);
    assert.ok(['a', 'b'].includes(mq.brokerName));
    assert.ok(mq.queueId < 2);
  });

  test('disabled: only the retry rule (avoid the last broker) applies', () => {
    const f = new MQFaultStrategy(false, () => 0);
    const info = topicRouteToPublishInfo('T', route);
    f.updateFaultItem('b', 5, true);
    assert.equal(f.isAvailable('b'), true);
    for (let i = 0; i < 10; i++) assert.equal(f.selectOneMessageQueue(info, 'b').brokerName, 'a');
  });
});
