import { test } from 'node:test';
import assert from 'node:assert/strict';
import { quantile } from '../../../src/cli/mqbench/stats.js';

test('quantile: the nearest rank of sorted samples, 0 when there are none', () => {
  const hundred = Float64Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(quantile(hundred, 0.5), 50);
  assert.equal(quantile(hundred, 0.99), 99);
  assert.equal(quantile(hundred, 0.999), 100);
  assert.equal(quantile(hundred, 1), 100);
  assert.equal(quantile(hundred, 0), 1);
  assert.equal(quantile([7], 0.5), 7);
  assert.equal(quantile([], 0.99), 0);
});
