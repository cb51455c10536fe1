/**
 * bench/results/latest.md from the figures of `npm run bench`: the end-to-end targets of issue 8
 * (figure, target, met or not, broker CPU and peak RSS of the workload), then every store and
 * remoting figure as printed.
 */
type Figures = Record<string, unknown>;

interface Target {
  workload: string;
  what: string;
  key: string;
  unit: string;
  target: number;
  higherIsBetter: boolean;
  cpuOf?: string;
}

const TARGETS: Target[] = [
  {
    workload: 'A',
    what: 'produce 200k x 1 KiB, ASYNC_FLUSH, <= 1000 in flight',
    key: 'A_msgs',
    unit: 'msgs/s',
    target: 200_000,
    higherIsBetter: true,
    cpuOf: 'A',
  },
  {
    workload: 'A2',
    what: 'the same, SYNC_FLUSH broker',
    key: 'A2_msgs',
    unit: 'msgs/s',
    target: 150_000,
    higherIsBetter: true,
    cpuOf: 'A2',
  },
  {
    workload: 'B',
    what: 'consume 200k stored 1 KiB',
    key: 'B_msgs',
    unit: 'msgs/s',
    target: 300_000,
    higherIsBetter: true,
    cpuOf: 'B',
  },
  {
    workload: 'C',
    what: 'latency at 5,000 msgs/s, p99',
    key: 'C_p99_ms',
    unit: 'ms',
    target: 1,
    higherIsBetter: false,
    cpuOf: 'C',
  },
  {
    workload: 'C',
    what: 'latency at 5,000 msgs/s, p99.9',
    key: 'C_p999_ms',
    unit: 'ms',
    target: 3,
    higherIsBetter: false,
  },
  {
    workload: 'D',
    what: 'produce 200k x 100 B',
    key: 'D_msgs',
    unit: 'msgs/s',
    target: 400_000,
    higherIsBetter: true,
    cpuOf: 'D',
  },
  {
    workload: 'all',
    what: 'broker peak RSS',
    key: 'broker_rss_mib',
    unit: 'MiB',
    target: 200,
    higherIsBetter: false,
  },
];

const fmt = (v: unknown): string =>
  typeof v === 'number'
    ? Number.isInteger(v)
      ? v.toLocaleString('en-US')
      : String(v)
    : v === undefined
      ? '-'
      : String(v);

function figureRows(f: Figures | undefined): string {
  if (!f) return '_not run_\n';
  return (
    '| figure | value |\n| --- | --- |\n' +
    Object.entries(f)
      .map(([k, v]) => `| ${k} | ${fmt(v)} |`)
      .join('\n') +
    '\n'
  );
}

export function renderMarkdown(results: Figures): string {
  const e2e = results.e2e as Figures | undefined;
  const lines: string[] = [
    '# Benchmark results',
    '',
    `${fmt(results.date)}, Node ${fmt(results.node)}, ${fmt(results.cpus)} CPUs, load average ` +
      `${fmt(results.loadavg_start)} -> ${fmt(results.loadavg_end)} (other work on the machine moves every figure).`,
    '',
    '## End to end (issue 8 targets)',
    '',
  ];
  if (!e2e || 'error' in e2e) {
    lines.push(`_not available: ${fmt(e2e?.error)}_`, '');
  } else {
    lines.push(
      `Runtime ${fmt(e2e.runtime)}; producers pipeline up to ${fmt(e2e.in_flight)} sends, auto-batching ${fmt(e2e.auto_batch)}. ` +
        `Figures are medians of ${fmt(e2e.runs ?? 1)} run(s), each on a fresh broker (best run: \`<figure>_best\` below; peak RSS: the largest).`,
      '',
      '| workload | measure | figure | target | met | broker CPU s | broker peak RSS MiB |',
      '| --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const t of TARGETS) {
      const v = e2e[t.key];
      const met = typeof v === 'number' ? (t.higherIsBetter ? v >= t.target : v <= t.target) : undefined;
      const cpu = t.cpuOf ? e2e[`${t.cpuOf}_broker_cpu_s`] : undefined;
      const rss = t.cpuOf ? e2e[`${t.cpuOf}_broker_peak_rss_mib`] : undefined;
      lines.push(
        `| ${t.workload} | ${t.what} | ${fmt(v)} ${t.unit} | ${t.higherIsBetter ? '>=' : '<='} ${fmt(t.target)} | ` +
          `${met === undefined ? '-' : met ? 'yes' : 'no'} | ${fmt(cpu)} | ${fmt(rss)} |`,
      );
    }
    const range = (suffix: string): string | undefined => {
      const v = Object.entries(e2e)
        .filter(([k, x]) => k.endsWith(suffix) && typeof x === 'number')
        .map(([, x]) => x as number);
      return v.length > 0 ? `${fmt(Math.min(...v))}-${fmt(Math.max(...v))}` : undefined;
    };
    const byThread = ['A', 'A2', 'B', 'C', 'D'].filter(
      (w) => e2e[`${w}_broker_cpu_loop_thread_s`] !== undefined,
    );
    if (byThread.length > 0) {
      lines.push(
        '',
        "CPU seconds by thread. Node's own threads are V8's compiler and GC helpers and libuv's pool (the " +
          "broker's O_DIRECT reads); on a fresh process most of their time is compiling the hot path.",
        '',
        "| workload | broker event loop | broker CommitLog writer | broker Node's own | client event loop | client Node's own |",
        '| --- | --- | --- | --- | --- | --- |',
        ...byThread.map(
          (w) =>
            `| ${w} | ${fmt(e2e[`${w}_broker_cpu_loop_thread_s`])} | ${fmt(e2e[`${w}_broker_cpu_writer_thread_s`])} | ` +
            `${fmt(e2e[`${w}_broker_cpu_node_threads_s`])} | ${fmt(e2e[`${w}_client_cpu_loop_thread_s`])} | ` +
            `${fmt(e2e[`${w}_client_cpu_node_threads_s`])} |`,
        ),
      );
    }
    const loop = range('_machine_cpu_loop_ms');
    const pingPong = range('_machine_loopback_round_trips_per_s');
    if (loop && pingPong) {
      lines.push(
        '',
        `The machine's pace before each workload: a fixed CPU loop took ${loop} ms, and loopback ping-pong ` +
          `to a worker thread ran ${pingPong} round trips/s. Every figure here moves with both.`,
      );
    }
    if (e2e.C_machine_wake_late_p999_ms !== undefined) {
      lines.push(
        '',
        `While C ran, a thread of the bench sleeping 1 ms at a time woke late by p99 ${fmt(e2e.C_machine_wake_late_p99_ms)} ms, ` +
          `p99.9 ${fmt(e2e.C_machine_wake_late_p999_ms)} ms, max ${fmt(e2e.C_machine_wake_late_max_ms)} ms: ` +
          'the machine adds that to any one wake-up, and a message of C crosses several.',
      );
    }
    lines.push(
      '',
      '<details><summary>every end-to-end figure</summary>',
      '',
      figureRows(e2e),
      '</details>',
      '',
    );
  }
  lines.push('## Store', '', figureRows(results.store as Figures | undefined), '## Remoting', '');
  lines.push(figureRows(results.remoting as Figures | undefined));
  return lines.join('\n');
}
