import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WaiterQueue } from '../../../src/store/commitlog/waiter-queue.js';
import type { AppendResult } from '../../../src/store/append-result.js';

/** A waiter that records what it was resolved with, tagged by its end offset. */
function waiter(log: string[], tag: string): (v: never) => void {
  return ((v: unknown) => log.push(`${tag}:${String(v)}`)) as (v: never) => void;
}
const val = (v: AppendResult | undefined): string => (v === undefined ? 'internal' : 'put');

test('releases in append order up to an offset, across ring wrap-around and growth', () => {
  const q = new WaiterQueue();
  const log: string[] = [];
  let end = 0;
  // Interleave pushes and releases so the ring wraps, then push far past its first capacity.
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 700; i++) q.push(++end, waiter(log, String(end)), undefined);
    q.releaseUpTo(end - 100, val);
  }
  for (let i = 0; i < 5000; i++) q.push(++end, waiter(log, String(end)), undefined);
  assert.equal(q.size, 5100);
  q.releaseUpTo(end, val);
  assert.equal(q.size, 0);
  assert.equal(log.length, end);
  log.forEach((l, i) => assert.equal(l, `${i + 1}:internal`));
});

test('failAfter resolves only the waiters past the offset; expire goes by deadline', () => {
  const q = new WaiterQueue();
  const log: string[] = [];
  const put = {} as AppendResult;
  for (let e = 1; e <= 6; e++) q.push(e * 10, waiter(log, String(e * 10)), put, 1000 + e);
  q.failAfter(35, () => 'failed');
  assert.deepEqual(log, ['40:failed', '50:failed', '60:failed']);
  assert.equal(q.size, 3);
  q.expire(1002, () => 'timeout');
  assert.deepEqual(log.slice(3), ['10:timeout', '20:timeout']);
  q.push(70, waiter(log, '70'), put, 2000);
  q.releaseUpTo(100, val);
  assert.deepEqual(log.slice(5), ['30:put', '70:put']);
  assert.equal(q.size, 0);
});

test('a single put kept as numbers resolves with its AppendResult, also after the ring grew', () => {
  const q = new WaiterQueue();
  const host = Buffer.from([127, 0, 0, 1, 0, 0, 0x2a, 0x9f]);
  const got: (AppendResult | undefined)[] = [];
  const keep = ((v: AppendResult | undefined) => got.push(v)) as (v: never) => void;
  // 3000 puts of 100 bytes at offsets past 2^32 (doubles, not small integers), one internal wait.
  const base = 5 * 2 ** 32;
  for (let k = 0; k < 3000; k++)
    q.pushOne(base + (k + 1) * 100, keep, host, base + k * 100, 100, k, 1.7e12 + k);
  q.push(base + 3000 * 100, keep, undefined);
  q.releaseUpTo(base + 2000 * 100, (v) => v);
  q.failAfter(base + 2500 * 100, (v) => v);
  q.releaseUpTo(Number.MAX_SAFE_INTEGER, (v) => v);
  assert.equal(got.length, 3001);
  const byOffset = new Map(got.filter((r) => r !== undefined).map((r) => [r.wroteOffset, r]));
  assert.equal(byOffset.size, 3000);
  for (const k of [0, 1023, 1024, 1999, 2000, 2999]) {
    const r = byOffset.get(base + k * 100)!;
    assert.deepEqual(
      [r.wroteBytes, r.logicsOffset, r.storeTimestamp, r.msgNum, r.phyOffsets],
      [100, k, 1.7e12 + k, 1, [base + k * 100]],
    );
  }
  assert.equal(
    byOffset.get(base)!.msgId,
    `7F00000100002A9F${base.toString(16).toUpperCase().padStart(16, '0')}`,
  );
  assert.equal(got.filter((r) => r === undefined).length, 1);
});
