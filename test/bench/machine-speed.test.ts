import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuLoopMs, pingPongPerSecond } from '../../bench/e2e/machine-speed.js';

test('machine pace probes: a CPU loop time and loopback round trips a second', async () => {
  const ms = cpuLoopMs();
  // 100M steps: well above 10 ms on any machine, and under a minute even on a crowded one.
  assert.ok(ms > 10 && ms < 60_000, `loop ${ms} ms`);
  const rate = await pingPongPerSecond();
  // 3000 round trips over loopback: finite, and at least a few hundred a second.
  assert.ok(rate > 200 && rate < 10_000_000, `${rate} round trips/s`);
});
