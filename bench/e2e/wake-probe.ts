/**
 * How late this machine wakes a thread that sleeps 1 ms, measured while a workload runs: the
 * floor under any latency figure taken at the same time. A worker thread of the bench's own
 * process (otherwise idle while its children work) sleeps 1 ms at a time with Atomics.wait and
 * records how far past 1 ms each sleep ended. It uses next to no CPU, so it does not disturb what
 * it measures. On this 2-core VM even an idle core leaves a busy thread without the CPU for
 * 2-10 ms a few times per 5 s; when the broker or the client is hit while a message is in flight,
 * that message's latency grows by as much.
 */
import { Worker } from 'node:worker_threads';
import { quantile, round } from '../../src/cli/mqbench/stats.js';

export interface WakeFigures {
  samples: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  /** Sleeps that ended more than 1 ms late. */
  overOneMs: number;
}

// Plain JS for `eval`: the bench runs under tsx or compiled, and both can start this.
const WORKER = `
const { parentPort } = require('node:worker_threads');
const cell = new Int32Array(new SharedArrayBuffer(4));
const late = [];
let stop = false;
parentPort.once('message', () => { stop = true; });
function round() {
  const until = performance.now() + 50;
  while (performance.now() < until) {
    const t = performance.now();
    Atomics.wait(cell, 0, 0, 1);
    late.push(performance.now() - t - 1);
  }
  if (stop) parentPort.postMessage(late);
  else setImmediate(round);
}
round();
`;

export class WakeProbe {
  private readonly worker = new Worker(WORKER, { eval: true });

  /** Stops the probe and summarises what it saw. */
  async stop(): Promise<WakeFigures> {
    const done = new Promise<number[]>((resolve, reject) => {
      this.worker.once('message', resolve);
      this.worker.once('error', reject);
    });
    this.worker.postMessage('stop');
    const late = (await done).sort((a, b) => a - b);
    await this.worker.terminate();
    // A timer may fire a hair early: that is not late.
    const at = (q: number): number => round(Math.max(0, quantile(late, q)));
    return {
      samples: late.length,
      p50Ms: at(0.5),
      p99Ms: at(0.99),
      p999Ms: at(0.999),
      maxMs: at(1),
      overOneMs: late.filter((v) => v > 1).length,
    };
  }
}
