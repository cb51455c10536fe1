import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { PullDecoder } from '../../../src/client/consumer/pull-decoder.js';
import { MessageExt } from '../../../src/client/message/message-ext.js';
import { decodeRecords, encodeRecord, recordLength } from '../../../src/common/message/message-record.js';
import { encodeSocketAddr } from '../../../src/common/socket-address.js';
import { encodeProperties } from '../../../src/common/message/message-properties.js';
import { MessageProperty } from '../../../src/common/message/message-const.js';
import { MessageSysFlag } from '../../../src/common/message/message-sysflag.js';

interface Spec {
  topic: string;
  born: string;
  store: string;
  tags: string;
  body: Buffer;
  sysFlag?: number;
  extra?: Record<string, string>;
}

function record(s: Spec, i: number): Buffer {
  const topic = Buffer.from(s.topic);
  const props = new Map<string, string>([
    [MessageProperty.TAGS, s.tags],
    [MessageProperty.UNIQ_CLIENT_MESSAGE_ID_KEYIDX, `U${i}`],
    ...Object.entries(s.extra ?? {}),
    [MessageProperty.CRC32, '0123456789'],
  ]);
  const properties = Buffer.from(encodeProperties(props));
  const bornHost = encodeSocketAddr({ host: s.born, port: 5000 + i });
  const storeHost = encodeSocketAddr({ host: s.store, port: 10911 });
  let sysFlag = s.sysFlag ?? 0;
  if (bornHost.length === 20) sysFlag |= MessageSysFlag.BORNHOST_V6_FLAG;
  if (storeHost.length === 20) sysFlag |= MessageSysFlag.STOREHOSTADDRESS_V6_FLAG;
  const buf = Buffer.alloc(
    recordLength(s.body.length, topic.length, properties.length, bornHost.length, storeHost.length),
  );
  encodeRecord(buf, 0, {
    bodyCRC: 7 + i,
    queueId: i % 4,
    flag: i,
    queueOffset: 1000 + i,
    physicalOffset: 2 ** 33 + i * 977,
    sysFlag,
    bornTimestamp: 1700000000000 + i,
    bornHost,
    storeTimestamp: 1700000000100 + i,
    storeHost,
    reconsumeTimes: i % 3,
    preparedTransactionOffset: 0,
    body: s.body,
    topic,
    properties,
  });
  return buf;
}

test('pull decoder: the same messages as decodeRecords + MessageExt, shared values where bytes repeat', () => {
  const specs: Spec[] = [
    { topic: 'T1', born: '10.0.0.1', store: '127.0.0.1', tags: 'A', body: Buffer.from('one') },
    { topic: 'T1', born: '10.0.0.1', store: '127.0.0.1', tags: 'B', body: Buffer.alloc(3000, 7) },
    { topic: 'T1', born: '::1', store: '127.0.0.1', tags: 'A', body: Buffer.from('v6 born') },
    { topic: 'Topic2', born: '10.0.0.2', store: '::2', tags: 'A', body: Buffer.from('v6 store') },
    {
      topic: 'Topic2',
      born: '10.0.0.2',
      store: '::2',
      tags: 'A',
      body: deflateSync(Buffer.from('inflated')),
      sysFlag: MessageSysFlag.COMPRESSED_FLAG,
    },
    {
      topic: 'Topic2',
      born: '10.0.0.2',
      store: '127.0.0.1',
      tags: 'A',
      body: Buffer.from('half'),
      sysFlag: MessageSysFlag.TRANSACTION_PREPARED_TYPE,
      extra: { [MessageProperty.TRANSACTION_PREPARED]: 'true' },
    },
  ];
  const body = Buffer.concat([...specs.map(record), Buffer.from([1, 2, 3])]);
  const out: MessageExt[] = [];
  new PullDecoder().decode(body, 'b1', '5', '99', undefined, out);
  const expected = decodeRecords(body).map((s) => {
    const m = new MessageExt(s, 'b1');
    m.properties.set(MessageProperty.MIN_OFFSET, '5');
    m.properties.set(MessageProperty.MAX_OFFSET, '99');
    return m;
  });
  assert.equal(out.length, specs.length);
  for (let i = 0; i < out.length; i++) {
    const a = out[i]!;
    const e = expected[i]!;
    const fields = [
      'topic',
      'flag',
      'queueId',
      'storeSize',
      'queueOffset',
      'sysFlag',
      'bornTimestamp',
    ] as const;
    for (const f of fields) assert.equal(a[f], e[f], `${f} of ${i}`);
    for (const f of [
      'storeTimestamp',
      'offsetMsgId',
      'commitLogOffset',
      'bodyCRC',
      'reconsumeTimes',
    ] as const)
      assert.equal(a[f], e[f], `${f} of ${i}`);
    assert.deepEqual(a.bornHost, e.bornHost);
    assert.deepEqual(a.storeHost, e.storeHost);
    assert.deepEqual(a.body, e.body);
    assert.deepEqual([...a.properties], [...e.properties], `properties of ${i}`);
    assert.equal(a.properties.has(MessageProperty.CRC32), false);
    assert.equal(a.msgId, `U${i}`);
  }
  assert.equal(out[4]!.body.toString(), 'inflated');
  assert.equal(out[5]!.transactionId, 'U5');
  assert.equal(out[0]!.storeHost, out[1]!.storeHost, 'one store host value for equal bytes');
  assert.equal(out[0]!.topic, out[2]!.topic);
  // Bodies are views of the answer, not copies (an inflated one is new memory).
  assert.equal(out[0]!.body.buffer, body.buffer);
  assert.notEqual(out[4]!.body.buffer, body.buffer);
});

test('pull decoder: tag filter, and a malformed record ends the list', () => {
  const a = record(
    { topic: 'T', born: '10.0.0.1', store: '127.0.0.1', tags: 'A', body: Buffer.from('a') },
    0,
  );
  const b = record(
    { topic: 'T', born: '10.0.0.1', store: '127.0.0.1', tags: 'B', body: Buffer.from('b') },
    1,
  );
  const out: MessageExt[] = [];
  new PullDecoder().decode(Buffer.concat([a, b, a]), 'b', '0', '3', new Set(['B']), out);
  assert.deepEqual(
    out.map((m) => m.body.toString()),
    ['b'],
  );
  const bad = Buffer.concat([a, b]);
  bad.writeInt32BE(0x12345678, a.length + 4);
  const out2: MessageExt[] = [];
  new PullDecoder().decode(bad, 'b', '0', '3', undefined, out2);
  assert.equal(out2.length, 1);
});
