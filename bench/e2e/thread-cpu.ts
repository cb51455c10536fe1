/**
 * CPU time of a bench process split by thread, so a figure can say where a process spent it:
 *   - main: the event loop thread (JavaScript);
 *   - node: threads Node.js starts before any of our code runs, that is V8's compiler and GC
 *     helpers and libuv's pool (file reads with O_DIRECT go there);
 *   - later: threads started after the bench child's first line, that is the broker's CommitLog
 *     writer thread.
 * Per-thread time comes from /proc/self/task/<tid>/schedstat (nanoseconds on a CPU); where that is
 * missing (not Linux) every figure is 0. A thread that has exited is gone from the sum.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface ThreadCpuSeconds {
  main: number;
  node: number;
  later: number;
}

/** Nanoseconds on a CPU of each live thread of this process, by tid. */
function perThreadNs(): Map<number, number> {
  const out = new Map<number, number>();
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const ns = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      if (Number.isFinite(ns)) out.set(Number(tid), ns);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

export class ThreadCpu {
  /** The threads alive when this was made: the main thread and Node's own. */
  private readonly atStart = new Set(perThreadNs().keys());
  private mark = perThreadNs();

  /** CPU seconds by kind of thread since the previous call (or since construction). */
  take(): ThreadCpuSeconds {
    const now = perThreadNs();
    const r: ThreadCpuSeconds = { main: 0, node: 0, later: 0 };
    for (const [tid, ns] of now) {
      const s = (ns - (this.mark.get(tid) ?? 0)) / 1e9;
      if (tid === process.pid) r.main += s;
      else if (this.atStart.has(tid)) r.node += s;
      else r.later += s;
    }
    this.mark = now;
    return r;
  }
}
