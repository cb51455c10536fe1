import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defineHeader, optional, required } from '../../src/protocol/header.js';

const H = defineHeader('TestHeader', {
  producerGroup: required('string', 'a'),
  queueId: required('int', 'e'),
  bornTimestamp: required('long', 'g'),
  unitMode: optional('bool', 'k'),
  remark: optional('string'),
});

test('decodes wire aliases into typed fields and encodes back to strings', () => {
  const r = H.decode({ a: 'PG', e: '3', g: '1700000000000', k: 'TRUE', extra: 'ignored' });
  assert.ok(r.ok);
  assert.deepEqual(r.value, {
    producerGroup: 'PG',
    queueId: 3,
    bornTimestamp: 1700000000000,
    unitMode: true,
  });
  assert.deepEqual(H.encode(r.value), { a: 'PG', e: '3', g: '1700000000000', k: 'true' });
});

test('missing required fields and bad numbers are error results, not exceptions', () => {
  const missing = H.decode({ a: 'PG', g: '1' });
  assert.equal(missing.ok, false);
  assert.match(!missing.ok ? missing.error : '', /missing required field e/);
  const bad = H.decode({ a: 'PG', e: 'x', g: '1' });
  assert.match(!bad.ok ? bad.error : '', /field e='x' is not an integer/);
  const big = H.decode({ a: 'PG', e: '4294967296', g: '1' });
  assert.match(!big.ok ? big.error : '', /out of range/);
  assert.equal(H.decode(undefined).ok, false);
});
