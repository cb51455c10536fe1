/**
 * `npm run bench:e2e [-- --only=A,C --count=N --batch=N --out=file --prof=dir --tsx]`: the
 * end-to-end suite (suite.ts). By default the benchmark and the sources are compiled with tsc
 * first (into node_modules/.cache/rmq-e2e-bench) and the compiled JavaScript is measured, as a
 * broker runs it: tsx's transform adds a helper call per function it creates (keepNames), which
 * showed up in profiles of the hot paths. `--tsx` runs the TypeScript as is.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileForBench } from '../compile.js';

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
  return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
}

let status: number;
if (argv.includes('--tsx')) {
  status = await run(['--import', 'tsx', join(root, 'bench', 'e2e', 'suite.ts'), ...argv]);
} else {
  const files = ['suite.ts', 'broker-child.ts', 'client-child.ts'].map((f) => join(root, 'bench', 'e2e', f));
  const out = compileForBench(root, 'rmq-e2e-bench', files);
  status = await run([join(out, 'bench', 'e2e', 'suite.js'), ...argv]);
  rmSync(out, { recursive: true, force: true });
}
process.exit(status);
