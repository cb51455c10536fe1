/**
 * `npm run bench`: runs every benchmark in turn (each prints its own figures and, last, a JSON
 * line), then writes bench/results/latest.json with all of them.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const suites: [string, string][] = [
  ['remoting', 'bench/remoting/remoting-bench.ts'],
  ['store', 'bench/store/store-bench.ts'],
];

const results: Record<string, unknown> = { date: new Date().toISOString(), node: process.version };
for (const [name, file] of suites) {
  process.stdout.write(`\n== ${name} (${file})\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, file)], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.stdout.write(r.stdout);
  const last = r.stdout.trim().split('\n').at(-1) ?? '';
  try {
    results[name] = JSON.parse(last);
  } catch {
    results[name] = { error: `no JSON line (exit ${r.status})` };
  }
}
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/latest.json'), JSON.stringify(results, null, 2) + '\n');
process.stdout.write(`\n${JSON.stringify(results)}\n`);
