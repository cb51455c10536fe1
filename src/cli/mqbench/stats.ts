/**
 * Measuring for the mqbench tools: counters, a latency histogram, windows between report lines,
 * and the output helpers (upstream's time format, fixed-point numbers).
 *
 * Latencies are kept in microseconds in a log-linear histogram: exact below 2048 us, then 1024
 * sub-buckets per power of two (0.1% resolution), so percentiles of long runs cost a fixed
 * ~120 KiB and O(1) per sample.
 */

const LINEAR = 2048;
const SUB = 1024;
const MAX_EXP = 28; // up to 2^38 us, ~3 days

export class Histogram {
  private readonly counts = new Uint32Array(LINEAR + MAX_EXP * SUB);
  count = 0;
  sumUs = 0;
  maxUs = 0;

  private static index(us: number): number {
    if (us < LINEAR) return us;
    const e = Math.min(Math.floor(Math.log2(us)) - 10, MAX_EXP);
    const mantissa = Math.min(Math.floor(us / 2 ** e), 2 * SUB - 1);
    return LINEAR + (e - 1) * SUB + (mantissa - SUB);
  }

  private static lower(index: number): number {
    if (index < LINEAR) return index;
    const e = Math.floor((index - LINEAR) / SUB) + 1;
    return (((index - LINEAR) % SUB) + SUB) * 2 ** e;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sumUs = 0;
    this.maxUs = 0;
  }

  record(ms: number): void {
    const us = Math.max(0, Math.round(ms * 1000));
    this.counts[Histogram.index(us)]!++;
    this.count++;
    this.sumUs += us;
    if (us > this.maxUs) this.maxUs = us;
  }

  /** The latency (ms) below which `q` (0..1) of the samples fall. */
  percentile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(Histogram.lower(i), this.maxUs) / 1000;
    }
    return this.maxUs / 1000;
  }

  get averageMs(): number {
    return this.count === 0 ? 0 : this.sumUs / this.count / 1000;
  }

  get maxMs(): number {
    return this.maxUs / 1000;
  }
}

/** The value below which `q` (0..1) of `sorted` (ascending) falls: the nearest rank; 0 when empty. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  return n === 0 ? 0 : sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))]!;
}

/** Running maximum and sum over a reporting window (reset by `take`). */
export class WindowStat {
  sum = 0;
  max = 0;
  count = 0;

  add(v: number): void {
    this.sum += v;
    this.count++;
    if (v > this.max) this.max = v;
  }

  take(): { sum: number; max: number; count: number } {
    const r = { sum: this.sum, max: this.max, count: this.count };
    this.sum = 0;
    this.max = 0;
    this.count = 0;
    return r;
  }
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** Upstream's timeMillisToHumanString2: `yyyy-MM-dd HH:mm:ss,SSS`, local time. */
export function humanTime(ms = Date.now()): string {
  const d = new Date(ms);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())},${pad(d.getMilliseconds(), 3)}`
  );
}

/** Java's `%7.3f`-style formatting: fixed decimals, padded on the left. */
export function fixed(v: number, decimals: number, width = 0): string {
  const s = Number.isFinite(v) ? v.toFixed(decimals) : 'NaN';
  return s.padStart(width);
}

/** Rounds for the JSON line: enough digits to be useful, no float noise. */
export function round(v: number, decimals = 3): number {
  const f = 10 ** decimals;
  return Math.round(v * f) / f;
}

/**
 * When a run stops by itself: after a message count, after a duration, or never (Ctrl-C).
 * `-q` takes either: `200000` is a count, `10s` / `500ms` / `2m` / `1h` a duration.
 */
export interface StopRule {
  count?: number;
  durationMs?: number;
}

export function parseStopRule(value: string | undefined): StopRule {
  if (value === undefined || value === '' || value === '0') return {};
  if (/^\d+$/.test(value)) return { count: Number(value) };
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(value);
  if (!m) throw new Error(`'${value}' is neither a message count nor a duration like 10s, 500ms, 2m`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return { durationMs: Number(m[1]) * unit };
}

export function describeStopRule(r: StopRule): string {
  if (r.count !== undefined) return `${r.count} messages`;
  if (r.durationMs !== undefined) return `${r.durationMs} ms`;
  return 'running until interrupted';
}

/** Where a tool writes its lines (stdout by default; tests collect them). */
export type Out = (line: string) => void;

export const stdoutOut: Out = (line) => {
  process.stdout.write(line + '\n');
};

/**
 * Calls `report` every `intervalMs` and resolves `done` when the stop rule's duration passes or
 * `stop()` is called. Timers are unref'd so a finished run never waits for them.
 */
export class RunClock {
  readonly startedAt = performance.now();
  private readonly timers: NodeJS.Timeout[] = [];
  private finish!: () => void;
  readonly done = new Promise<void>((resolve) => {
    this.finish = resolve;
  });
  private stopped = false;

  constructor(intervalMs: number, report: () => void, rule: StopRule) {
    if (intervalMs > 0) this.timers.push(setInterval(report, intervalMs));
    if (rule.durationMs !== undefined) this.timers.push(setTimeout(() => this.stop(), rule.durationMs));
    for (const t of this.timers) t.unref();
  }

  get elapsedMs(): number {
    return performance.now() - this.startedAt;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.finish();
  }
}
