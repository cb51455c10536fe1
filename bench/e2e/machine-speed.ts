/**
 * This machine's pace right now, measured two ways before each workload of the suite, because on
 * the 2-core VM the benchmarks run on both move within minutes and every figure moves with them:
 * - a fixed integer loop (plain CPU): 110 ms at the fastest seen, up to ~1.8x that;
 * - ping-pong over loopback TCP between this thread and a worker thread (each round trip is two
 *   socket writes, each waking a sleeping thread, which is what a pipelined client and broker pay
 *   per request): round trips a second.
 * Runs are then compared knowing how fast the machine was at the time.
 */
import { createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

const ITERATIONS = 100_000_000;

function loopOnce(): number {
  const t = performance.now();
  let x = 1;
  for (let i = 0; i < ITERATIONS; i++) x = (Math.imul(x, 1103515245) + 12345) | 0;
  const ms = performance.now() - t;
  // Keeps x live, so the loop cannot be dropped.
  if (x === 0x7fffffff) process.stdout.write('');
  return ms;
}

/** Milliseconds for 100M loop steps: the median of three runs. */
export function cpuLoopMs(): number {
  const runs = [loopOnce(), loopOnce(), loopOnce()].sort((a, b) => a - b);
  return Math.round(runs[1]!);
}

// Plain JS for `eval`: the bench runs under tsx or compiled, and both can start this.
const ECHO = `
const { workerData } = require('node:worker_threads');
const s = require('node:net').connect(workerData.port, '127.0.0.1');
s.setNoDelay(true);
s.on('data', (d) => s.write(d));
s.on('error', () => {});
`;

const ROUND_TRIPS = 3000;

/** Round trips a second of a 200-byte message over loopback TCP to a worker thread and back. */
export async function pingPongPerSecond(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const worker = new Worker(ECHO, { eval: true, workerData: { port } });
  try {
    const [socket] = (await once(server, 'connection')) as [Socket];
    socket.setNoDelay(true);
    const msg = Buffer.alloc(200);
    let got = 0;
    let left = ROUND_TRIPS;
    const t = performance.now();
    await new Promise<void>((resolve, reject) => {
      socket.on('error', reject);
      socket.on('data', (d) => {
        got += d.length;
        // A reply may arrive in pieces: the next message leaves once the whole one is back.
        if (got < msg.length) return;
        got -= msg.length;
        if (--left === 0) resolve();
        else socket.write(msg);
      });
      socket.write(msg);
    });
    const perSecond = Math.round((ROUND_TRIPS * 1000) / (performance.now() - t));
    socket.destroy();
    return perSecond;
  } finally {
    await worker.terminate();
    server.close();
  }
}
