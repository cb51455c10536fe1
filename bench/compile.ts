/**
 * Compiles benchmark entry points and the sources they import with tsc into
 * node_modules/.cache/<name>, so that the compiled JavaScript is what gets measured (what a broker
 * runs; tsx's transform adds a helper call per function it creates, which showed in profiles).
 * Checked as strictly as the project (a type error is printed but does not stop it: exit status 2
 * still emits); anything worse ends the process.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';

/** Compiles `files` (absolute paths) under `root` into a fresh cache folder; returns its path. */
export function compileForBench(root: string, name: string, files: string[]): string {
  const out = join(root, 'node_modules', '.cache', name);
  rmSync(out, { recursive: true, force: true });
  const tsc = spawnSync(
    process.execPath,
    [
      join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
      ...['--outDir', out, '--rootDir', root, '--module', 'nodenext', '--moduleResolution', 'nodenext'],
      ...['--target', 'es2023', '--skipLibCheck', '--types', 'node', '--declaration', 'false'],
      ...['--sourceMap', 'false', '--strict', 'true', '--noEmitOnError', 'false'],
      ...files,
    ],
    { cwd: root, stdio: 'inherit' },
  );
  if (tsc.status !== 0 && tsc.status !== 2) process.exit(tsc.status ?? 1);
  return out;
}
