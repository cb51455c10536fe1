import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ResponseCode } from '../../src/protocol/response-code.js';
import { SerializeType } from '../../src/remoting/remoting-command.js';
import { decodeRecords } from '../../src/common/message/message-record.js';
import { decodeOffsetMsgId } from '../../src/common/message/message-id.js';
import { startBroker } from '../helpers/broker.js';
import { startNamesrv } from '../helpers/namesrv.js';
import { createTopic, pull, send, testClient } from '../helpers/broker-calls.js';
import { joinRecords } from '../../src/broker/processors/pull-message-processor.js';

describe('SEND and PULL', async () => {
  const { addr: ns } = await startNamesrv();
  const { broker, addr } = await startBroker({ namesrvAddr: ns });
  const c = testClient();

  test('what is sent (V1 and V2, JSON and ROCKETMQ headers) is pulled back byte-identical', async () => {
    await createTopic(c, addr, 'SP1', 2);
    const bodies = [
      Buffer.from('hello'),
      Buffer.alloc(5000, 0xab),
      Buffer.from('ünïcödé ✓'),
      Buffer.alloc(0),
    ];
    const sent: { msgId: string; queueOffset: string }[] = [];
    for (const [i, body] of bodies.entries()) {
      const res = await send(c, addr, {
        topic: 'SP1',
        body,
        tags: 'TagA',
        keys: `k${i} shared`,
        props: { user: `v${i}` },
        v1: i % 2 === 0,
        serializeType: i < 2 ? SerializeType.JSON : SerializeType.ROCKETMQ,
      });
      assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
      assert.equal(res.extFields?.queueId, '0');
      assert.equal(res.extFields?.MSG_REGION, 'DefaultRegion');
      assert.equal(res.extFields?.TRACE_ON, 'true');
      sent.push({ msgId: res.extFields!.msgId!, queueOffset: res.extFields!.queueOffset! });
    }
    assert.deepEqual(
      sent.map((s) => s.queueOffset),
      ['0', '1', '2', '3'],
    );
    const decodedId = decodeOffsetMsgId(sent[1]!.msgId);
    assert.equal(decodedId.address.host, '127.0.0.1');
    assert.equal(decodedId.address.port, broker.port);

    const res = await pull(c, addr, { topic: 'SP1' });
    assert.equal(res.code, ResponseCode.SUCCESS);
    assert.deepEqual(
      {
        next: res.extFields?.nextBeginOffset,
        min: res.extFields?.minOffset,
        max: res.extFields?.maxOffset,
        suggest: res.extFields?.suggestWhichBrokerId,
      },
      { next: '4', min: '0', max: '4', suggest: '0' },
    );
    const msgs = decodeRecords(res.body!);
    assert.equal(msgs.length, 4);
    msgs.forEach((m, i) => {
      assert.ok(m.body.equals(bodies[i]!), `body ${i}`);
      assert.equal(m.topic, 'SP1');
      assert.equal(m.queueOffset, i);
      assert.equal(m.msgId, sent[i]!.msgId);
      assert.equal(m.properties.get('TAGS'), 'TagA');
      assert.equal(m.properties.get('KEYS'), `k${i} shared`);
      assert.equal(m.properties.get('user'), `v${i}`);
      assert.equal(m.properties.get('CLUSTER'), 'DefaultCluster');
      assert.equal(m.properties.has('WAIT'), false, 'WAIT=true is not stored');
      assert.equal(m.bornHost.host, '127.0.0.1');
      assert.equal(m.storeHost.port, broker.port);
    });
  });

  test('tag filtering by hash code: only matching messages come back', async () => {
    await createTopic(c, addr, 'SP2', 1);
    for (const tag of ['TagA', 'TagB', 'TagC', 'TagA'])
      await send(c, addr, { topic: 'SP2', body: tag, tags: tag });
    const res = await pull(c, addr, { topic: 'SP2', subscription: 'TagA || TagC' });
    assert.deepEqual(
      decodeRecords(res.body!).map((m) => m.body.toString()),
      ['TagA', 'TagC', 'TagA'],
    );
    assert.equal(res.extFields?.nextBeginOffset, '4');
    const none = await pull(c, addr, { topic: 'SP2', subscription: 'TagZ' });
    assert.equal(none.code, ResponseCode.PULL_RETRY_IMMEDIATELY, 'units scanned, none matched');
    assert.equal(none.extFields?.nextBeginOffset, '4');
  });

  test('pull status codes: not found at the end, offset moved past it, all four fields always present', async () => {
    await createTopic(c, addr, 'SP3', 1);
    const empty = await pull(c, addr, { topic: 'SP3' });
    assert.equal(empty.code, ResponseCode.PULL_NOT_FOUND);
    const moved = await pull(c, addr, { topic: 'SP3', offset: 5 });
    assert.equal(moved.code, ResponseCode.PULL_OFFSET_MOVED);
    await send(c, addr, { topic: 'SP3', body: 'x' });
    const end = await pull(c, addr, { topic: 'SP3', offset: 1 });
    assert.equal(end.code, ResponseCode.PULL_NOT_FOUND);
    assert.equal(end.extFields?.nextBeginOffset, '1');
    const past = await pull(c, addr, { topic: 'SP3', offset: 9 });
    assert.equal(past.code, ResponseCode.PULL_OFFSET_MOVED);
    assert.equal(past.extFields?.nextBeginOffset, '1');
    for (const r of [empty, moved, end, past]) {
      for (const k of ['suggestWhichBrokerId', 'nextBeginOffset', 'minOffset', 'maxOffset'])
        assert.ok(r.extFields?.[k] !== undefined, k);
    }
  });

  test('long polling: a held pull is answered as soon as a matching message arrives', async () => {
    await createTopic(c, addr, 'LP1', 1);
    const started = Date.now();
    const held = pull(c, addr, { topic: 'LP1', suspendMs: 20_000, subscription: 'Wanted' }, 30_000);
    await sleep(200);
    assert.equal(broker.pullHold.size, 1, 'the pull is parked');
    await send(c, addr, { topic: 'LP1', body: 'other', tags: 'Other' });
    await sleep(200);
    assert.equal(broker.pullHold.size, 1, 'a non-matching message does not wake it');
    await send(c, addr, { topic: 'LP1', body: 'wanted', tags: 'Wanted' });
    const res = await held;
    assert.equal(res.code, ResponseCode.SUCCESS);
    assert.deepEqual(
      decodeRecords(res.body!).map((m) => m.body.toString()),
      ['wanted'],
    );
    assert.ok(Date.now() - started < 15_000, 'answered long before the hold time');
  });

  test('long polling: a held pull times out empty with PULL_NOT_FOUND', async () => {
    await createTopic(c, addr, 'LP2', 1);
    const res = await pull(c, addr, { topic: 'LP2', suspendMs: 300 }, 10_000);
    assert.equal(res.code, ResponseCode.PULL_NOT_FOUND);
    assert.equal(res.extFields?.nextBeginOffset, '0');
  });

  test('commit offset piggybacks on a pull', async () => {
    await createTopic(c, addr, 'LP3', 1);
    await send(c, addr, { topic: 'LP3', body: 'a' });
    await pull(c, addr, { topic: 'LP3', group: 'PiggyGroup', commitOffset: 1 });
    assert.equal(broker.offsets.query('PiggyGroup', 'LP3', 0), 1);
  });

  test('oneway sends are stored without an answer', async () => {
    await createTopic(c, addr, 'OW1', 1);
    await c.invokeOneway(
      addr,
      (await import('../helpers/broker-calls.js')).sendRequest({ topic: 'OW1', body: 'quiet', oneway: true }),
    );
    await sleep(100);
    const res = await pull(c, addr, { topic: 'OW1' });
    assert.deepEqual(
      decodeRecords(res.body!).map((m) => m.body.toString()),
      ['quiet'],
    );
  });
});

test('a pull body is a view of the records when they lie back to back, a copy otherwise', () => {
  const buf = Buffer.from('aaaabbbbcccc');
  const view = joinRecords([buf.subarray(0, 4), buf.subarray(4, 8), buf.subarray(8, 12)], 12);
  assert.equal(view.toString(), 'aaaabbbbcccc');
  assert.equal(view.buffer, buf.buffer, 'no copy');
  const gap = joinRecords([buf.subarray(0, 4), buf.subarray(8, 12)], 8);
  assert.equal(gap.toString(), 'aaaacccc');
  const other = joinRecords([buf.subarray(0, 4), Buffer.from('zz')], 6);
  assert.equal(other.toString(), 'aaaazz');
  assert.equal(joinRecords([buf], 12), buf);
});
