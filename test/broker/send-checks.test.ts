import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ResponseCode } from '../../src/protocol/response-code.js';
import { createRequest } from '../../src/remoting/remoting-command.js';
import { RequestCode } from '../../src/protocol/request-code.js';
import { decodeRecords } from '../../src/common/message/message-record.js';
import { startBroker } from '../helpers/broker.js';
import { createTopic, pull, send, sendRequest, testClient } from '../helpers/broker-calls.js';

describe('send checks and bad input', async () => {
  const { addr } = await startBroker({ props: { maxMessageSize: String(64 * 1024) } });
  const c = testClient();
  await createTopic(c, addr, 'Checked', 2);

  test('illegal, too long and blank topic names answer SYSTEM_ERROR with upstream remarks', async () => {
    const bad = await send(c, addr, { topic: 'has space', body: 'x' });
    assert.equal(bad.code, ResponseCode.SYSTEM_ERROR);
    assert.match(bad.remark!, /contains illegal characters/);
    const long = await send(c, addr, { topic: 'T'.repeat(128), body: 'x' });
    assert.equal(long.code, ResponseCode.SYSTEM_ERROR);
    assert.match(long.remark!, /longer than topic max length/);
  });

  test('system topics that may not be sent to answer NO_PERMISSION', async () => {
    for (const topic of [
      'SCHEDULE_TOPIC_XXXX',
      'RMQ_SYS_TRANS_HALF_TOPIC',
      'OFFSET_MOVED_EVENT',
      'SELF_TEST_TOPIC',
    ]) {
      const res = await send(c, addr, { topic, body: 'x' });
      assert.equal(res.code, ResponseCode.NO_PERMISSION, topic);
      assert.equal(res.remark, `Sending message to topic[${topic}] is forbidden.`);
    }
  });

  test('a queue id outside the topic answers SYSTEM_ERROR; a negative one picks a queue', async () => {
    const res = await send(c, addr, { topic: 'Checked', body: 'x', queueId: 2 });
    assert.equal(res.code, ResponseCode.SYSTEM_ERROR);
    assert.match(res.remark!, /request queueId\[2\] is illegal/);
    const any = await send(c, addr, { topic: 'Checked', body: 'x', queueId: -1 });
    assert.equal(any.code, ResponseCode.SUCCESS);
    assert.ok(['0', '1'].includes(any.extFields!.queueId!));
  });

  test('an oversize body answers MESSAGE_ILLEGAL and nothing is stored', async () => {
    await createTopic(c, addr, 'Oversize', 1);
    const res = await send(c, addr, { topic: 'Oversize', body: Buffer.alloc(64 * 1024 + 1) });
    assert.equal(res.code, ResponseCode.MESSAGE_ILLEGAL);
    const p = await pull(c, addr, { topic: 'Oversize' });
    assert.notEqual(p.code, ResponseCode.SUCCESS);
  });

  test('a missing or malformed header field answers SYSTEM_ERROR naming it, and the broker keeps serving', async () => {
    const req = sendRequest({ topic: 'Checked', body: 'x' });
    delete req.extFields!.b;
    const res = await c.invoke(addr, req);
    assert.equal(res.code, ResponseCode.SYSTEM_ERROR);
    assert.match(res.remark!, /missing required field b/);
    const req2 = sendRequest({ topic: 'Checked', body: 'x' });
    req2.extFields!.e = 'zero';
    assert.match((await c.invoke(addr, req2)).remark!, /field e='zero' is not an integer/);
    const hb = await c.invoke(addr, createRequest(RequestCode.HEART_BEAT, { body: Buffer.from('not json') }));
    assert.equal(hb.code, ResponseCode.SYSTEM_ERROR);
    assert.equal((await send(c, addr, { topic: 'Checked', body: 'fine' })).code, ResponseCode.SUCCESS);
  });

  test('pull checks: unknown topic, bad queue id, unparsable subscription, no heartbeat subscription', async () => {
    assert.equal((await pull(c, addr, { topic: 'NoSuchTopic' })).code, ResponseCode.TOPIC_NOT_EXIST);
    const badQueue = await pull(c, addr, { topic: 'Checked', queueId: 7 });
    assert.equal(badQueue.code, ResponseCode.SYSTEM_ERROR);
    assert.match(badQueue.remark!, /queueId\[7\] is illegal/);
    assert.equal(
      (await pull(c, addr, { topic: 'Checked', subscription: '||' })).code,
      ResponseCode.SUBSCRIPTION_PARSE_FAILED,
    );
    const noSub = await pull(c, addr, { topic: 'Checked', group: 'NeverBeat', noSubscription: true });
    assert.equal(noSub.code, ResponseCode.SUBSCRIPTION_NOT_EXIST);
  });

  test('messages to %RETRY% past maxReconsumeTimes go to %DLQ%', async () => {
    const res = await send(c, addr, {
      topic: '%RETRY%G1',
      body: 'poison',
      reconsumeTimes: 3,
      maxReconsumeTimes: 3,
    });
    assert.equal(res.code, ResponseCode.SUCCESS);
    const dlq = await pull(c, addr, { topic: '%DLQ%G1' });
    assert.deepEqual(
      decodeRecords(dlq.body!).map((m) => m.body.toString()),
      ['poison'],
    );
    const below = await send(c, addr, {
      topic: '%RETRY%G1',
      body: 'again',
      reconsumeTimes: 1,
      maxReconsumeTimes: 3,
    });
    assert.equal(below.code, ResponseCode.SUCCESS);
    const retry = await pull(c, addr, { topic: '%RETRY%G1' });
    assert.deepEqual(
      decodeRecords(retry.body!).map((m) => m.body.toString()),
      ['again'],
    );
  });
});

describe('auto topic creation', () => {
  test('on: a send to an unknown topic creates it from TBW102 with min(requested, default) queues', async () => {
    const { addr, broker } = await startBroker({ props: { defaultTopicQueueNums: '8' } });
    const c = testClient();
    const res = await send(c, addr, { topic: 'AutoMade', body: 'x', defaultTopicQueueNums: 3 });
    assert.equal(res.code, ResponseCode.SUCCESS);
    assert.equal(broker.topics.select('AutoMade')?.writeQueueNums, 3);
    assert.equal(broker.topics.select('AutoMade')?.perm, 6);
    await send(c, addr, { topic: 'AutoBig', body: 'x', defaultTopicQueueNums: 100 });
    assert.equal(broker.topics.select('AutoBig')?.writeQueueNums, 8);
  });

  test('off: a send to an unknown topic answers TOPIC_NOT_EXIST', async () => {
    const { addr, broker } = await startBroker({ props: { autoCreateTopicEnable: 'false' } });
    const c = testClient();
    const res = await send(c, addr, { topic: 'NotMade', body: 'x' });
    assert.equal(res.code, ResponseCode.TOPIC_NOT_EXIST);
    assert.match(res.remark!, /^topic\[NotMade\] not exist, apply first please!/);
    assert.equal(broker.topics.has('TBW102'), false);
  });
});

describe('busy protection and roles', () => {
  test('sends beyond the in-flight capacity answer SYSTEM_BUSY instead of queueing without bound', async () => {
    const { addr } = await startBroker({
      props: { sendThreadPoolQueueCapacity: '1', flushDiskType: 'SYNC_FLUSH' },
    });
    const c = testClient();
    await createTopic(c, addr, 'Busy', 1);
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => send(c, addr, { topic: 'Busy', body: `m${i}` })),
    );
    const codes = new Set(results.map((r) => r.code));
    assert.ok(codes.has(ResponseCode.SYSTEM_BUSY), 'some sends were refused as busy');
    assert.ok(codes.has(ResponseCode.SUCCESS), 'some sends were stored');
    const busy = results.find((r) => r.code === ResponseCode.SYSTEM_BUSY)!;
    assert.match(busy.remark!, /broker busy/);
  });

  test('a slave (brokerId > 0) refuses writes with SERVICE_NOT_AVAILABLE', async () => {
    const { addr, broker } = await startBroker({ props: { brokerId: '1' } });
    assert.equal(broker.storeConfig.brokerRole, 'SLAVE');
    const c = testClient();
    const res = await send(c, addr, { topic: 'TBW102', body: 'x' });
    assert.equal(res.code, ResponseCode.SERVICE_NOT_AVAILABLE);
    const create = await createTopic(c, addr, 'OnSlave');
    assert.equal(create.code, ResponseCode.SYSTEM_ERROR);
    assert.match(create.remark!, /from slave broker/);
  });
});
