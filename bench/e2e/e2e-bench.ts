/**
 * `npm run bench:e2e [-- --only=A,C --count=N --batch=N --out=file --prof=dir --tsx]`: the
 * end-to-end suite (suite.ts). By default the benchmark and the sources are compiled with tsc
 * first (into node_modules/.cache/rmq-e2e-bench) and the compiled JavaScript is measured, as a
 * broker runs it: tsx's transform adds a helper call per function it creates (keepNames), which
 * showed up in profiles of the hot paths. `--tsx` runs the TypeScript as is.
 */
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

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
  const out = join(root, 'node_modules', '.cache', 'rmq-e2e-bench');
  rmSync(out, { recursive: true, force: true });
  const files = ['suite.ts', 'broker-child.ts', 'client-child.ts'].map((f) => join(root, 'bench', 'e2e', f));
  const tsc = spawnSync(
    process.execPath,
    [
      join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
      ...['--outDir', out, '--rootDir', root, '--module', 'nodenext', '--moduleResolution', 'nodenext'],
      ...['--target', 'es2023', '--skipLibCheck', '--types', 'node', '--declaration', 'false'],
      ...['--sourceMap', 'false', '--strict', 'false', '--noEmitOnError', 'false'],
      ...files,
    ],
    { cwd: root, stdio: 'inherit' },
  );
  if (tsc.status !== 0 && tsc.status !== 2) process.exit(tsc.status ?? 1);
  status = await run([join(out, 'bench', 'e2e', 'suite.js'), ...argv]);
  rmSync(out, { recursive: true, force: true });
}
process.exit(status);
