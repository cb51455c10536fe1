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
