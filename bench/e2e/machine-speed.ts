/**
 * How fast this machine runs plain JavaScript right now: the time of a fixed integer loop. On the
 * 2-core VM the benchmarks run on, a fixed CPU loop took 490-910 ms within minutes (the host shares
 * its cores), and every figure moves with it; the suite records it before each workload, so runs
 * are compared knowing the machine's pace at the time.
 */
const ITERATIONS = 100_000_000;

function once(): number {
  const t = performance.now();
  let x = 1;
  for (let i = 0; i < ITERATIONS; i++) x = (Math.imul(x, 1103515245) + 12345) | 0;
  const ms = performance.now() - t;
  // Keeps x live, so the loop cannot be dropped.
  if (x === 0x7fffffff) process.stdout.write('');
  return ms;
}

/** Milliseconds for 100M loop steps: the median of three runs (~0.1 s each on a quiet machine). */
export function cpuLoopMs(): number {
  const runs = [once(), once(), once()].sort((a, b) => a - b);
  return Math.round(runs[1]!);
}
