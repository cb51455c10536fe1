/**
 * `npm run bench:e2e [-- --only=A,C --count=N --batch=N --out=file --prof=dir --tsx]`: the
 * end-to-end suite (suite.ts). By default the benchmark and the sources are compiled with tsc
 * first (into node_modules/.cache/rmq-e2e-bench) and the compiled JavaScript is measured, as a
 * broker runs it: tsx's transform adds a helper call per function it creates (keepNames), which
 * showed up in profiles of the hot paths. `--tsx` runs the TypeScript as is.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);
const root = fileURLToPath(new URL('../..', import.meta.url));
let status: number;
if (argv.includes('--tsx')) {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(root, 'bench', 'e2e', 'suite.ts'), ...argv],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
  status = r.status ?? 1;
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
  const r = spawnSync(process.execPath, [join(out, 'bench', 'e2e', 'suite.js'), ...argv], {
    cwd: root,
    stdio: 'inherit',
  });
  rmSync(out, { recursive: true, force: true });
  status = r.status ?? 1;
}
process.exit(status);
