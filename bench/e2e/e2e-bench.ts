/**
 * `npm run bench:e2e [-- --only=A,C --count=N --batch=N --out=file --prof=dir --tsx]`: the
 * end-to-end suite (suite.ts). By default the benchmark and the sources are compiled with tsc
 * first (into node_modules/.cache/rmq-e2e-bench) and the compiled JavaScript is measured, as a
 * broker runs it: tsx's transform adds a helper call per function it creates (keepNames), which
 * showed up in profiles of the hot paths. `--tsx` runs the TypeScript as is.
 *
 * `--repeat=N` runs the suite N times (default 3, 1 with --prof), each on a fresh NameServer and
 * broker, and prints, last, the figures of all runs as one JSON object: medians, `_best` for the
 * targeted figures, peak RSS the largest (bench/run-summary.ts). Single runs on this two-core
 * machine move by 20% and more with whatever else it is doing.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileForBench } from '../compile.js';
import { summarizeRuns } from '../run-summary.js';

const argv = process.argv.slice(2);
const root = fileURLToPath(new URL('../..', import.meta.url));
/** Runs the suite as a child; SIGINT / SIGTERM are passed on, so it can stop what it started. */
function run(args: string[]): Promise<number> {
  const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit' });
  const forward = (sig: NodeJS.Signals): void => {
    child.kill(sig);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? 1);
    }),
  );
}

/** Lower is better for these: latency, CPU, memory, bytes read. */
const lowerIsBetter = (k: string): boolean => /_(ms|cpu_s|mib)$/.test(k);
/** The figures the issue sets targets for get a `_best` too. */
const headline = (k: string): boolean => /^(A|A2|B|D)_msgs$|^C_p(50|99|999)_ms$/.test(k);

const repeatArg = argv.find((a) => a.startsWith('--repeat='));
const outArg = argv.find((a) => a.startsWith('--out='));
// Profiles of several runs would overwrite each other: one run unless asked.
const repeat = Math.max(1, Number(repeatArg?.slice(9) ?? (argv.some((a) => a.startsWith('--prof')) ? 1 : 3)));
const suiteArgs = argv.filter((a) => a !== repeatArg && a !== outArg);
const tmp = mkdtempSync(join(tmpdir(), 'rmq-e2e-runs-'));
const runs: Record<string, unknown>[] = [];
let status = 0;
try {
  let suite: string[];
  let out: string | undefined;
  if (argv.includes('--tsx')) {
    suite = ['--import', 'tsx', join(root, 'bench', 'e2e', 'suite.ts')];
  } else {
    const files = ['suite.ts', 'broker-child.ts', 'client-child.ts'].map((f) =>
      join(root, 'bench', 'e2e', f),
    );
    out = compileForBench(root, 'rmq-e2e-bench', files);
    suite = [join(out, 'bench', 'e2e', 'suite.js')];
  }
  for (let i = 0; i < repeat && status === 0; i++) {
    if (repeat > 1)
      process.stdout.write(`-- run ${i + 1}/${repeat} (load average ${loadavg()[0]!.toFixed(2)})\n`);
    const file = join(tmp, `run-${i}.json`);
    status = await run([...suite, ...suiteArgs, `--out=${file}`]);
    if (status === 0) runs.push(JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>);
  }
  if (out) rmSync(out, { recursive: true, force: true });
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
if (runs.length > 0) {
  const summary = summarizeRuns(runs, { lowerIsBetter, best: headline });
  summary.loadavg_start = runs[0]!.loadavg_start;
  summary.loadavg_end = runs.at(-1)!.loadavg_end;
  const line = JSON.stringify(summary);
  if (outArg) writeFileSync(outArg.slice(6), line + '\n');
  // The last line: every figure, medians of the runs.
  process.stdout.write(line + '\n');
}
process.exit(status);
