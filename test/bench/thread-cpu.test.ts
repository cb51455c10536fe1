import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { ThreadCpu } from '../../bench/e2e/thread-cpu.js';

/** Burns this thread's CPU until it has used `ms` of it (wall time would count waiting too). */
function burnCpu(ms: number): void {
  const until = process.cpuUsage().user + ms * 1000;
  let x = 0;
  while (process.cpuUsage().user < until) for (let i = 0; i < 1e5; i++) x = (x * 31 + i) | 0;
  if (x === 42) process.stdout.write('');
}

test('thread CPU: the event loop thread and a thread started later are told apart', async (t) => {
  if (process.platform !== 'linux') return t.skip('per-thread CPU comes from /proc');
  const cpu = new ThreadCpu();
  burnCpu(80);
  const first = cpu.take();
  // process.cpuUsage counts every thread, so the burn may stop a little early: at least half.
  assert.ok(first.main >= 0.04, `main ${first.main} s`);
  assert.ok(first.later < 0.02, `later ${first.later} s with no thread started`);

  const worker = new Worker(
    `const until = process.hrtime.bigint() + 150_000_000n;
     let x = 0; while (process.hrtime.bigint() < until) x = (x * 31 + 1) | 0;
     require('node:worker_threads').parentPort.postMessage(x);`,
    { eval: true },
  );
  await once(worker, 'message');
  const second = cpu.take();
  await worker.terminate();
  // The worker spun 150 ms of wall time; on a crowded machine it may have run for less of it.
  assert.ok(second.later >= 0.03, `later ${second.later} s`);
  assert.ok(second.main < second.later, `main ${second.main} s while the worker spun`);
});
