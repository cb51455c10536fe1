import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { decodeRegisterBrokerBody, encodeRegisterBrokerBody } from '../../src/protocol/route-data.js';
import { newTopicConfig } from '../../src/protocol/topic-config.js';
import { RequestCode } from '../../src/protocol/request-code.js';
import { ResponseCode } from '../../src/protocol/response-code.js';
import { RmqError } from '../../src/common/errors.js';

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

test('compressed RegisterBrokerBody: hand-built stream in upstream layout decodes', () => {
  const dv = Buffer.from('{"counter":3,"timestamp":1700000000000}');
  const t1 = Buffer.from('TopicTest 4 4 6 SINGLE_TAG');
  const t2 = Buffer.from('%RETRY%g 1 1 6 MULTI_TAG');
  const fs = Buffer.from('[]');
  const raw = deflateSync(
    Buffer.concat([
      int32(dv.length),
      dv,
      int32(2),
      int32(t1.length),
      t1,
      int32(t2.length),
      t2,
      int32(fs.length),
      fs,
    ]),
  );
  const body = decodeRegisterBrokerBody(raw, true);
  assert.deepEqual(body.topicConfigSerializeWrapper.dataVersion, { counter: 3, timestamp: 1700000000000 });
  const tc = body.topicConfigSerializeWrapper.topicConfigTable;
  assert.deepEqual(
    tc.get('TopicTest'),
    newTopicConfig('TopicTest', { readQueueNums: 4, writeQueueNums: 4, perm: 6 }),
  );
  assert.equal(tc.get('%RETRY%g')!.topicFilterType, 'MULTI_TAG');
});

test('RegisterBrokerBody round-trips in both forms; garbage is a typed error', () => {
  const body = {
    topicConfigSerializeWrapper: {
      topicConfigTable: new Map([
        ['A', newTopicConfig('A', { readQueueNums: 2, writeQueueNums: 3, perm: 7 })],
      ]),
      dataVersion: { timestamp: 5, counter: 9 },
    },
    filterServerList: ['x:1'],
  };
  for (const compressed of [false, true]) {
    assert.deepEqual(decodeRegisterBrokerBody(encodeRegisterBrokerBody(body, compressed), compressed), body);
  }
  assert.throws(() => decodeRegisterBrokerBody(Buffer.from('nope'), true), RmqError);
  assert.throws(() => decodeRegisterBrokerBody(deflateSync(int32(100)), true), RmqError);
  assert.throws(() => decodeRegisterBrokerBody(Buffer.from('[1]'), false), RmqError);
});

test('code tables hold upstream numbers', () => {
  assert.equal(RequestCode.SEND_MESSAGE_V2, 310);
  assert.equal(RequestCode.GET_ROUTEINFO_BY_TOPIC, 105);
  assert.equal(RequestCode.SEND_BATCH_MESSAGE, 320);
  assert.equal(ResponseCode.PULL_OFFSET_MOVED, 21);
  assert.equal(ResponseCode.CONSUMER_NOT_ONLINE, 206);
});
