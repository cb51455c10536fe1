/**
 * `npm run bench`: runs every benchmark in turn (each prints its own figures and, last, a JSON
 * line) with a time limit each, so the whole run stays under 10 minutes, then writes
 * bench/results/latest.json (every figure) and bench/results/latest.md (the end-to-end targets as
 * a table, then the store and remoting figures).
 *   npm run bench [-- --only=e2e,store]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { renderMarkdown } from './results-table.js';

const root = new URL('..', import.meta.url).pathname;
const only = process.argv
  .slice(2)
  .find((a) => a.startsWith('--only='))
  ?.slice(7)
  .split(',');
/** name, script, time limit (ms): 30 + 300 + 240 s worst case, with compile steps included. */
const suites: [string, string, number][] = [
  ['remoting', 'bench/remoting/remoting-bench.ts', 30_000],
  ['store', 'bench/store/store-bench.ts', 300_000],
  ['e2e', 'bench/e2e/e2e-bench.ts', 240_000],
];

const results: Record<string, unknown> = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  loadavg_start: Math.round(loadavg()[0]! * 100) / 100,
};
for (const [name, file, timeout] of suites) {
  if (only && !only.includes(name)) continue;
  process.stdout.write(`\n== ${name} (${file})\n`);
  const started = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, file)], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout,
    // A suite that overruns is stopped (SIGTERM lets it remove its temp dirs and children).
    killSignal: 'SIGTERM',
    maxBuffer: 64 * 1024 * 1024,
  });
  process.stdout.write(r.stdout ?? '');
  const last = (r.stdout ?? '').trim().split('\n').at(-1) ?? '';
  try {
    results[name] = JSON.parse(last);
  } catch {
    results[name] = { error: r.error ? String(r.error) : `no JSON line (exit ${r.status})` };
  }
  process.stdout.write(`(${name}: ${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
}
results.loadavg_end = Math.round(loadavg()[0]! * 100) / 100;
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/latest.json'), JSON.stringify(results, null, 2) + '\n');
writeFileSync(join(root, 'bench/results/latest.md'), renderMarkdown(results));
process.stdout.write(
  `\nwrote bench/results/latest.json and bench/results/latest.md\n${JSON.stringify(results)}\n`,
);
