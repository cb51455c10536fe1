import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  CRC32_RESERVED_LEN,
  readCrcProperty,
  rmqCrc32,
  writeCrcProperty,
} from '../../src/store/commitlog/record-crc.js';
import { RecordEncoder } from '../../src/store/commitlog/record-encoder.js';
import { checkRecord, verifyRecordForRead } from '../../src/store/commitlog/record-check.js';
import { decodeRecord } from '../../src/common/message/message-record.js';
import { decodeProperties } from '../../src/common/message/message-properties.js';
import { encodeSocketAddr } from '../../src/common/socket-address.js';
import { decodeBatch, encodeBatch } from '../../src/store/batch-decoder.js';
import {
  messageStoreConfigSchema,
  defaultMessageStoreConfig,
  consumeQueueFileSize,
} from '../../src/store/message-store-config.js';
import { indexKeyHash, indexKeyHashWithPrefix } from '../../src/store/index/index-file.js';
import { javaStringHashCode } from '../../src/common/java-hash.js';
import { msg, props } from './helpers/store-helper.js';

const crcVectors = JSON.parse(readFileSync(new URL('../fixtures/crc32.json', import.meta.url), 'utf8')) as {
  text?: string;
  pattern?: string;
  rocketmq: number;
}[];

test('UtilAll.crc32 (sign bit cleared) matches the JDK vectors', () => {
  for (const v of crcVectors) {
    const data =
      v.text !== undefined
        ? Buffer.from(v.text, 'utf8')
        : Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7 + 3) & 0xff));
    assert.equal(rmqCrc32(data), v.rocketmq, v.text ?? v.pattern);
  }
});

test('CRC property: upstream layout with the least significant digit first', () => {
  const b = Buffer.alloc(CRC32_RESERVED_LEN);
  writeCrcProperty(b, 0, 1274296614);
  // createCrc32 emits crc % 10 first: 1274296614 -> "4166924721"
  assert.equal(b.toString('latin1'), '__CRC32#\u00014166924721\u0002');
  assert.equal(readCrcProperty(b, 0, b.length), 1274296614);
  writeCrcProperty(b, 0, 12345);
  assert.equal(b.toString('latin1'), '__CRC32#\u00015432100000\u0002');
  assert.equal(readCrcProperty(b, 0, b.length), 12345);
  writeCrcProperty(b, 0, 0);
  assert.equal(readCrcProperty(b, 0, b.length), 0);
});

const encoder = new RecordEncoder(
  encodeSocketAddr({ host: '127.0.0.1', port: 10911 }),
  4 * 1024 * 1024,
  true,
);
const checkOpts = { checkCrc: true, requireRecordCrc: false, maxRecordSize: 8 << 20, tagsCode: () => 7 };

function encodeOne(properties: string, phy = 1000): Buffer {
  const p = encoder.prepare(msg('TopicTest', 3, 'Hello RocketMQ 0', properties));
  assert.ok(!('status' in p));
  const buf = Buffer.alloc(p.size);
  encoder.encode(buf, 0, p, phy, 42, 1700000000123);
  return buf;
}

test('encoded record: upstream layout, properties end with the CRC property', () => {
  const buf = encodeOne(props({ TAGS: 'TagA', UNIQ_KEY: 'ABC' }));
  const m = decodeRecord(buf, 0)!;
  assert.equal(m.topic, 'TopicTest');
  assert.equal(m.queueId, 3);
  assert.equal(m.queueOffset, 42);
  assert.equal(m.commitLogOffset, 1000);
  assert.equal(m.storeTimestamp, 1700000000123);
  assert.equal(m.bodyCRC, 613185359); // JDK vector for "Hello RocketMQ 0"
  assert.equal(m.msgId, '7F00000100002A9F00000000000003E8');
  assert.equal(m.properties.get('TAGS'), 'TagA');
  assert.ok(m.properties.has('__CRC32#'));
  // The CRC covers everything before the 20 reserved bytes.
  const crc = readCrcProperty(buf, 0, buf.length);
  assert.equal(crc, rmqCrc32(buf.subarray(0, buf.length - CRC32_RESERVED_LEN)));
  const res = checkRecord(buf, 0, buf.length, 1000, checkOpts);
  assert.equal(res.kind, 'message');
  if (res.kind === 'message') {
    assert.equal(res.dispatch.uniqKey, 'ABC');
    assert.equal(res.dispatch.consumeQueueOffset, 42);
  }
});

test('a client-sent __CRC32# property is replaced, empty properties still get one', () => {
  const buf = encodeOne(props({ TAGS: 'x', __CRC32$: '1' }).replace('__CRC32$', '__CRC32#'));
  const m = decodeRecord(buf, 0)!;
  assert.equal(m.properties.get('TAGS'), 'x');
  assert.equal(verifyRecordForRead(buf, 0, buf.length, true), true);
  const empty = encodeOne('');
  assert.equal(
    decodeProperties(decodeRecord(empty, 0)!.properties.get('__CRC32#') === undefined ? '' : 'ok').size,
    0,
  );
  assert.equal(verifyRecordForRead(empty, 0, empty.length, true), true);
});

test('any flipped byte of a record fails its check', () => {
  const good = encodeOne(props({ TAGS: 'TagA', KEYS: 'k1 k2' }));
  for (let i = 0; i < good.length; i++) {
    const bad = Buffer.from(good);
    bad[i] = bad[i]! ^ 0x40;
    const res = checkRecord(bad, 0, bad.length, 1000, checkOpts);
    assert.notEqual(
      res.kind === 'message' && verifyRecordForRead(bad, 0, bad.length, false),
      true,
      `byte ${i}`,
    );
  }
});

test('checkRecord: zeros end the log, a wrong position and truncation are caught', () => {
  assert.equal(checkRecord(Buffer.alloc(64), 0, 64, 0, checkOpts).kind, 'end');
  const rec = encodeOne('');
  assert.equal(checkRecord(rec, 0, rec.length, 999, checkOpts).kind, 'bad');
  assert.equal(checkRecord(rec, 0, rec.length - 5, 1000, checkOpts).kind, 'need');
  const garbage = Buffer.from('this is not a record at all........');
  assert.equal(checkRecord(garbage, 0, garbage.length, 0, checkOpts).kind, 'bad');
});

test('prepare refuses oversize, bad topics and oversize properties with upstream statuses', () => {
  const small = new RecordEncoder(encodeSocketAddr({ host: '127.0.0.1', port: 1 }), 1024, true);
  const big = small.prepare(msg('T', 0, Buffer.alloc(2000)));
  assert.ok('status' in big && big.status === 'MESSAGE_ILLEGAL');
  const topic = small.prepare(msg('x'.repeat(128), 0, 'a'));
  assert.ok('status' in topic && topic.status === 'MESSAGE_ILLEGAL');
  const p = encoder.prepare(msg('T', 0, 'a', props({ K: 'v'.repeat(33000) })));
  assert.ok('status' in p && p.status === 'PROPERTIES_SIZE_EXCEEDED');
});

test('batch body: items split, batch properties appended', () => {
  const body = encodeBatch([
    { body: Buffer.from('one'), properties: props({ UNIQ_KEY: 'A' }) },
    { body: Buffer.from('two'), flag: 3, properties: '' },
  ]);
  const items = decodeBatch({
    topic: 'T',
    queueId: 1,
    body,
    sysFlag: 0,
    bornTimestamp: 1,
    bornHost: Buffer.alloc(8),
    properties: 'CLUSTER\u0001c',
  })!;
  assert.equal(items.length, 2);
  assert.equal(items[0]!.properties, 'UNIQ_KEY\u0001A\u0002CLUSTER\u0001c');
  assert.equal(items[1]!.properties, 'CLUSTER\u0001c');
  assert.equal(items[1]!.flag, 3);
  assert.equal(
    decodeBatch({
      topic: 'T',
      queueId: 1,
      body: body.subarray(0, 10),
      sysFlag: 0,
      bornTimestamp: 1,
      bornHost: Buffer.alloc(8),
    }),
    undefined,
  );
});

test('index key hash: |String.hashCode| of topic#key, built without the string', () => {
  assert.equal(indexKeyHash('TopicTest#KEY1'), 1656969516);
  assert.equal(indexKeyHash('polygenelubricants'), 0); // hashCode is Integer.MIN_VALUE
  assert.equal(
    indexKeyHashWithPrefix(javaStringHashCode('TopicTest#'), 'KEY1'),
    indexKeyHash('TopicTest#KEY1'),
  );
});

test('config: seed keys and old spellings are accepted', () => {
  const cfg = defaultMessageStoreConfig();
  const seed = new Map([
    ['mapedFileSizeCommitLog', '1073741824'],
    ['mapedFileSizeConsumeQueue', '300000'],
    ['destroyMapedFileIntervalForcibly', '120000'],
    ['redeleteHangedFileInterval', '120000'],
    ['diskMaxUsedSpaceRatio', '88'],
    ['storePathRootDir', '/x'],
    ['storePathCommitLog', '/x/commitlog'],
    ['storePathConsumeQueue', '/x/consumequeue'],
    ['storePathIndex', '/x/index'],
    ['storeCheckpoint', '/x/checkpoint'],
    ['abortFile', '/x/abort'],
    ['maxMessageSize', '65536'],
    ['flushCommitLogLeastPages', '4'],
    ['flushConsumeQueueLeastPages', '2'],
    ['flushCommitLogThoroughInterval', '10000'],
    ['flushConsumeQueueThoroughInterval', '60000'],
    ['deleteWhen', '04'],
    ['fileReservedTime', '120'],
    ['flushDiskType', 'SYNC_FLUSH'],
    ['brokerRole', 'SLAVE'],
  ]);
  const unknown = messageStoreConfigSchema.apply(cfg, seed, 'broker.properties');
  assert.deepEqual(unknown, []);
  assert.equal(cfg.mappedFileSizeCommitLog, 1073741824);
  assert.equal(consumeQueueFileSize(cfg), 300000);
  assert.equal(cfg.destroyMapedFileIntervalForcibly, 120000);
  assert.equal(cfg.flushDiskType, 'SYNC_FLUSH');
  assert.equal(defaultMessageStoreConfig().mappedFileSizeConsumeQueue, 6000000);
});
