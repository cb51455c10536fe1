import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UniqIdGenerator, createOffsetMsgId } from '../../src/common/message/message-id.js';
import { decodeRecord, encodeRecord, recordLength } from '../../src/common/message/message-record.js';
import { MessageSysFlag } from '../../src/common/message/message-sysflag.js';
import { encodeSocketAddr } from '../../src/common/socket-address.js';

/** The layout spelled out with Buffer writes: ip, pid, random, ms since the month began, counter. */
function reference(prefix: string, monthStart: number, now: number, counter: number): string {
  const tail = Buffer.alloc(6);
  tail.writeInt32BE((now - monthStart) | 0, 0);
  tail.writeUInt16BE(counter, 4);
  return prefix + tail.toString('hex').toUpperCase();
}

test('UNIQ_KEY ids: 32 uppercase hex chars, time since the month began, a counter that wraps', () => {
  const gen = new UniqIdGenerator(Buffer.from([10, 1, 2, 3]));
  const start = new Date(2026, 10, 1).getTime();
  const first = gen.next(start + 5);
  assert.match(first, /^[0-9A-F]{32}$/);
  assert.ok(first.startsWith('0A010203'));
  const prefix = first.slice(0, 20);
  let counter = Number.parseInt(first.slice(28), 16);
  for (const now of [start + 5, start + 6, start + 6, start + 86_400_000 * 20 + 1234, start + 0x7fffffff]) {
    for (let i = 0; i < 3; i++) {
      counter = (counter + 1) & 0xffff;
      assert.equal(gen.next(now), reference(prefix, start, now, counter));
    }
  }
  for (let i = 0; i < 70_000; i++) gen.next(start + 7);
  const next = new Date(2026, 11, 1).getTime();
  const id = gen.next(next + 42);
  assert.equal(id.slice(20, 28), '0000002A', 'a new month starts the time over');
});

test('a decoded record names itself by createOffsetMsgId, IPv4 and IPv6 store hosts alike', () => {
  for (const [host, v6] of [
    ['10.20.30.40', false],
    ['fe80:0:0:0:0:0:0:1', true],
  ] as const) {
    for (const offset of [0, 1, 4096, 2 ** 40 + 7, Number.MAX_SAFE_INTEGER - 1]) {
      const storeHost = encodeSocketAddr({ host, port: 10911 });
      const bornHost = encodeSocketAddr({ host: '1.2.3.4', port: 5 });
      const fields = {
        bodyCRC: 0,
        queueId: 1,
        flag: 0,
        queueOffset: 3,
        physicalOffset: offset,
        sysFlag: v6 ? MessageSysFlag.STOREHOSTADDRESS_V6_FLAG : 0,
        bornTimestamp: 1,
        bornHost,
        storeTimestamp: 2,
        storeHost,
        reconsumeTimes: 0,
        preparedTransactionOffset: 0,
        body: Buffer.from('b'),
        topic: Buffer.from('T'),
        properties: Buffer.from(''),
      };
      const buf = Buffer.alloc(recordLength(1, 1, 0, 8, storeHost.length));
      encodeRecord(buf, 0, fields);
      const m = decodeRecord(buf, 0)!;
      assert.equal(m.msgId, createOffsetMsgId(storeHost, offset));
      assert.equal(m.storeHost.host, host);
      assert.equal(m.bornHost.host, '1.2.3.4');
    }
  }
});
