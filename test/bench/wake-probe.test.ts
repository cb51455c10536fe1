import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { WakeProbe } from '../../bench/e2e/wake-probe.js';

test('the wake probe counts its 1 ms sleeps and orders its percentiles', async () => {
  const t0 = performance.now();
  const probe = new WakeProbe();
  await sleep(200);
  const f = await probe.stop();
  // Sleeps of at least 1 ms each, for 200 ms or more: over 50 even on a loaded machine.
  const elapsed = performance.now() - t0;
  assert.ok(f.samples > 50 && f.samples <= elapsed, `${f.samples} samples in ${elapsed} ms`);
  assert.ok(
    f.p50Ms >= 0 && f.p50Ms <= f.p99Ms && f.p99Ms <= f.p999Ms && f.p999Ms <= f.maxMs,
    JSON.stringify(f),
  );
  assert.ok(f.overOneMs <= f.samples);
});
