import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import { RecordEncoder } from '../../src/store/commitlog/record-encoder.js';
import { crcShiftTable, sealRecords } from '../../src/store/commitlog/record-seal.js';
import { readCrcProperty, computeRecordCrc, rmqCrc32 } from '../../src/store/commitlog/record-crc.js';
import { decodeRecord } from '../../src/common/message/message-record.js';
import { encodeSocketAddr } from '../../src/common/socket-address.js';
import { msg, props } from './helpers/store-helper.js';

const v4 = new RecordEncoder(encodeSocketAddr({ host: '127.0.0.1', port: 10911 }), 4 << 20, true);
const v6 = new RecordEncoder(encodeSocketAddr({ host: '::1', port: 10911 }), 4 << 20, true);

/** Bodies around the 2 KiB line where sealing switches to crc32_combine, hosts v4 and v6. */
function encodeMany(buf: Buffer, count: number, seal: boolean): number[] {
  const ends: number[] = [];
  let pos = 0;
  for (let i = 0; i < count; i++) {
    const body = Buffer.alloc([0, 1, 100, 2047, 2048, 5000][i % 6]!, i & 0xff);
    const m = msg('SealTopic', i % 3, body, props({ TAGS: `t${i}`, UNIQ_KEY: `U${i}` }), {
      bornHost: i % 2 ? { host: '::2', port: 1 } : { host: '10.0.0.2', port: 1 },
    });
    const enc = i % 4 === 3 ? v6 : v4;
    const p = enc.prepare(m);
    assert.ok(!('status' in p));
    pos += enc.encode(buf, pos, p, 5000 + pos, i, 1700000000000 + i, seal);
    ends.push(pos);
  }
  return ends;
}

test('sealing fills exactly the CRCs encode would have written, combined or not', () => {
  const a = Buffer.alloc(1 << 20);
  const b = Buffer.alloc(1 << 20);
  const ends = encodeMany(a, 60, true);
  encodeMany(b, 60, false);
  const end = ends[ends.length - 1]!;
  assert.notDeepEqual(a.subarray(0, end), b.subarray(0, end));
  assert.equal(sealRecords(b, 0, end, true, crc32, crcShiftTable(), new Map()), end);
  assert.deepEqual(a.subarray(0, end), b.subarray(0, end));
  let pos = 0;
  for (const e of ends) {
    const m = decodeRecord(a, pos)!;
    assert.equal(m.bodyCRC, rmqCrc32(m.body));
    assert.equal(readCrcProperty(a, pos, e - pos), computeRecordCrc(a, pos, e - pos));
    pos = e;
  }
  // A range that ends inside a record stops before it.
  const c = Buffer.alloc(1 << 20);
  encodeMany(c, 60, false);
  assert.equal(sealRecords(c, 0, ends[10]! + 7, true, crc32, crcShiftTable(), new Map()), ends[10]);
});

test('sealing through a scratch region of the same memory writes the same bytes', () => {
  const expected = Buffer.alloc(1 << 20);
  const end = encodeMany(expected, 60, true).at(-1)!;
  // Records at an odd offset of a larger memory, whose last 64 KiB are the scratch region.
  const mem = new Uint8Array(2 << 20);
  const buf = Buffer.from(mem.buffer, 4096 + 7, 1 << 20);
  encodeMany(buf, 60, false);
  const scratch = { mem, at: mem.length - 65536, size: 65536, views: new Map<number, Uint8Array>() };
  assert.equal(sealRecords(buf, 0, end, true, crc32, crcShiftTable(), new Map(), scratch), end);
  assert.deepEqual(buf.subarray(0, end), expected.subarray(0, end));
  assert.ok(scratch.views.size > 0, 'ranges went through the scratch region');
  // A scratch over other memory is not used: views of the buffer itself, same bytes.
  const other = Buffer.alloc(1 << 20);
  encodeMany(other, 60, false);
  const unrelated = { ...scratch, views: new Map<number, Uint8Array>() };
  assert.equal(sealRecords(other, 0, end, true, crc32, crcShiftTable(), new Map(), unrelated), end);
  assert.deepEqual(other.subarray(0, end), expected.subarray(0, end));
  assert.equal(unrelated.views.size, 0);
});
