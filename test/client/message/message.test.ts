import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { Message, bodyToString } from '../../../src/client/message/message.js';
import { MessageExt } from '../../../src/client/message/message-ext.js';
import { SendResult, SendStatus, sendStatusOf } from '../../../src/client/producer/send-result.js';
import { decodeRecord, encodeRecord, recordLength } from '../../../src/common/message/message-record.js';
import { encodeSocketAddr } from '../../../src/common/socket-address.js';
import { encodeProperties } from '../../../src/common/message/message-properties.js';
import { ErrorCode } from '../../../src/common/errors.js';

function stored(body: Buffer, sysFlag: number, props: Map<string, string>): MessageExt {
  const topic = Buffer.from('TopicTest');
  const properties = Buffer.from(encodeProperties(props));
  const buf = Buffer.alloc(recordLength(body.length, topic.length, properties.length));
  encodeRecord(buf, 0, {
    bodyCRC: 1,
    queueId: 2,
    flag: 0,
    queueOffset: 113,
    physicalOffset: 81430,
    sysFlag,
    bornTimestamp: 1669729922426,
    bornHost: encodeSocketAddr({ host: '172.27.80.1', port: 61263 }),
    storeTimestamp: 1669729922426,
    storeHost: encodeSocketAddr({ host: '172.27.80.1', port: 10911 }),
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
    body,
    topic,
    properties,
  });
  return new MessageExt(decodeRecord(buf, 0)!, 'mao');
}

describe('Message', () => {
  test('tags, keys, delay and wait live in the properties under upstream names', () => {
    const m = new Message('T', 'hi', {
      tags: 'TagA',
      keys: ['k1', 'k2'],
      delayTimeLevel: 3,
      properties: { a: 'b' },
    });
    assert.deepEqual(
      [...m.properties],
      [
        ['TAGS', 'TagA'],
        ['KEYS', 'k1 k2'],
        ['DELAY', '3'],
        ['WAIT', 'true'],
        ['a', 'b'],
      ],
    );
    assert.deepEqual(m.keys, ['k1', 'k2']);
    m.keys = 'x y';
    assert.deepEqual(m.keys, ['x', 'y']);
    assert.equal(m.delayTimeLevel, 3);
    m.delayTimeLevel = 0;
    assert.equal(m.getProperty('DELAY'), undefined);
    assert.throws(() => m.putUserProperty('TAGS', 'x'), { code: ErrorCode.ILLEGAL_ARGUMENT });
    assert.ok(Buffer.from([1, 2]).equals(new Message('T', new Uint8Array([1, 2])).body));
  });

  test('bodies print as Java signed byte arrays', () => {
    assert.equal(bodyToString(Buffer.from([72, 0, 255, 128])), '[72, 0, -1, -128]');
    assert.equal(bodyToString(Buffer.alloc(0)), '[]');
  });
});

describe('MessageExt', () => {
  test('msgId is the UNIQ_KEY when present, offsetMsgId the broker id; prints like upstream', () => {
    const props = new Map([
      ['TAGS', 'TagA'],
      ['UNIQ_KEY', '76FBC10A4DDC60E53B9394E3457A01C5'],
    ]);
    const m = stored(Buffer.from('Hello RocketMQ 453'), 0, props);
    assert.equal(m.offsetMsgId, 'AC1B500100002A9F0000000000013E16');
    assert.equal(m.msgId, '76FBC10A4DDC60E53B9394E3457A01C5');
    assert.equal(m.brokerName, 'mao');
    assert.equal(m.tags, 'TagA');
    assert.equal(
      m.toString(),
      'MessageExt [queueId=2, storeSize=' +
        m.storeSize +
        ', queueOffset=113, sysFlag=0, bornTimestamp=1669729922426, bornHost=/172.27.80.1:61263, ' +
        'storeTimestamp=1669729922426, storeHost=/172.27.80.1:10911, msgId=AC1B500100002A9F0000000000013E16, ' +
        'commitLogOffset=81430, bodyCRC=1, reconsumeTimes=0, preparedTransactionOffset=0, ' +
        "toString()=Message{topic='TopicTest', flag=0, properties={TAGS=TagA, UNIQ_KEY=76FBC10A4DDC60E53B9394E3457A01C5}, " +
        "body=[72, 101, 108, 108, 111, 32, 82, 111, 99, 107, 101, 116, 77, 81, 32, 52, 53, 51], transactionId='null'}]",
    );
    const noUniq = stored(Buffer.from('x'), 0, new Map());
    assert.equal(noUniq.msgId, noUniq.offsetMsgId);
  });

  test("the store's __CRC32# record checksum is not among a MessageExt's properties", () => {
    const m = stored(
      Buffer.from('x'),
      0,
      new Map([
        ['TAGS', 'TagA'],
        ['__CRC32#', '1234567890'],
      ]),
    );
    assert.deepEqual([...m.properties.keys()], ['TAGS']);
    assert.equal(m.getProperty('__CRC32#'), undefined);
    assert.doesNotMatch(m.toString(), /__CRC32#/);
  });

  test('a compressed body (legacy flag or zlib type bits) is inflated; unknown types are left alone', () => {
    const body = Buffer.from('compress me '.repeat(100));
    const z = deflateSync(body);
    assert.ok(stored(z, 0x1, new Map()).body.equals(body));
    assert.ok(stored(z, 0x301, new Map()).body.equals(body));
    assert.ok(stored(z, 0x101, new Map()).body.equals(z), 'LZ4 is not readable here');
    assert.ok(stored(Buffer.from('not zlib'), 0x1, new Map()).body.equals(Buffer.from('not zlib')));
  });
});

describe('SendResult', () => {
  test('status mapping and the quickstart line', () => {
    assert.equal(sendStatusOf(0), SendStatus.SEND_OK);
    assert.equal(sendStatusOf(10), SendStatus.FLUSH_DISK_TIMEOUT);
    assert.equal(sendStatusOf(12), SendStatus.FLUSH_SLAVE_TIMEOUT);
    assert.equal(sendStatusOf(11), SendStatus.SLAVE_NOT_AVAILABLE);
    assert.equal(sendStatusOf(14), undefined);
    const r = new SendResult(
      SendStatus.SEND_OK,
      '76FBC10A4DDC60E53B9394E342180000',
      'AC1B500100002A9F0000000000000000',
      { topic: 'TopicTest', brokerName: 'mao', queueId: 3 },
      0,
    );
    assert.equal(
      r.toString(),
      'SendResult [sendStatus=SEND_OK, msgId=76FBC10A4DDC60E53B9394E342180000, offsetMsgId=AC1B500100002A9F0000000000000000, ' +
        'messageQueue=MessageQueue [topic=TopicTest, brokerName=mao, queueId=3], queueOffset=0]',
    );
  });
});
