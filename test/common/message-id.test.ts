import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UniqIdGenerator } from '../../src/common/message/message-id.js';

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
