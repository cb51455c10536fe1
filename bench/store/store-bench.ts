/**
 * Message store benchmark: append throughput (ASYNC_FLUSH 100 B / 1 KiB / 4 KiB; SYNC_FLUSH 1 KiB
 * with 1, 16, 256 concurrent puts), read throughput by queue, peak RSS while appending 2 GiB, and
 * the restart after kill -9 of a ~3 GiB store. Prints one line per case and, last, one JSON object
 * with every figure. Uses a temp dir under /tmp, deleted at the end. Run: npm run bench:store
 *
 *   --repeat=N     run the sequence N times (default 3); figures are medians, `<figure>_best` the
 *                  best run, peak RSS the largest (bench/run-summary.ts)
 *   --only=a,b     cases: probe, async_100b, async_1k (with read_1k and read_1k_concurrent), async_4k,
 *                  sync, rss, restart
 *   --config=JSON  store config overrides for every case, e.g. '{"commitLogDirectIo":false}'
 *   --tsx          run the TypeScript sources through tsx instead of a compiled build
 *
 * By default the sources are compiled with tsc first (into node_modules/.cache/rmq-store-bench)
 * and the compiled JavaScript is measured: that is what a broker runs. The JSON says which
 * (`"runtime"`), with the load average around the run, since other work on this two-core machine
 * moves every figure.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileForBench } from '../compile.js';
import { summarizeRuns } from '../run-summary.js';

process.env.ROCKETMQ_LOG_LEVEL ??= 'warn';
const argv = process.argv.slice(2);
const arg = (name: string): string | undefined =>
  argv
    .find((a) => a === `--${name}` || a.startsWith(`--${name}=`))
    ?.split('=')
    .slice(1)
    .join('=') ?? (argv.includes(`--${name}`) ? '' : undefined);
const here = fileURLToPath(import.meta.url);
const isTs = here.endsWith('.ts');

if (isTs && arg('tsx') === undefined) {
  // Compile and measure the JavaScript a broker would run (see the header).
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const out = compileForBench(
    root,
    'rmq-store-bench',
    ['store-bench.ts', 'restart-child.ts', 'rss-child.ts'].map((f) => join(root, 'bench', 'store', f)),
  );
  const r = spawnSync(process.execPath, [join(out, 'bench', 'store', 'store-bench.js'), ...argv], {
    cwd: root,
    stdio: 'inherit',
  });
  rmSync(out, { recursive: true, force: true });
  process.exit(r.status ?? 1);
}

const { MiB, asyncCase, readCase, restartCase, rssCase, syncCase } = await import('./bench-cases.js');
const { diskProbe } = await import('./disk-probe.js');

const repeat = Math.max(1, Number(arg('repeat') ?? 3));
const only = arg('only')?.split(',');
const want = (c: string): boolean => !only || only.includes(c);
const root = mkdtempSync(join(tmpdir(), 'rmq-store-bench-'));
const peakRss = { value: 0 };
const rssTimer = setInterval(() => {
  peakRss.value = Math.max(peakRss.value, process.memoryUsage.rss());
}, 20);
const base = JSON.parse(arg('config') || '{}') as Record<string, unknown>;
const runs: Record<string, number>[] = [];
const load0 = loadavg()[0]!;

async function once(): Promise<Record<string, number>> {
  const ctx = { root, figures: {} as Record<string, number>, base, peakRss };
  if (want('probe')) await diskProbe(root, ctx.figures);
  if (want('async_100b')) await (await asyncCase(ctx, 'async_100b', 100, 128 * MiB)).shutdown();
  if (want('async_1k')) {
    const s1k = await asyncCase(ctx, 'async_1k', 1024, 1024 * MiB);
    await s1k.reput.caughtUp();
    await readCase(ctx, s1k, 'read_1k');
    await readCase(ctx, s1k, 'read_1k_concurrent', true);
    await s1k.shutdown();
  }
  if (want('async_4k')) await (await asyncCase(ctx, 'async_4k', 4096, 1024 * MiB)).shutdown();
  rmSync(join(root, 'async_100b'), { recursive: true, force: true });
  rmSync(join(root, 'async_1k'), { recursive: true, force: true });
  rmSync(join(root, 'async_4k'), { recursive: true, force: true });
  if (want('sync')) {
    await syncCase(ctx, 'sync_1k_1', 1, 2);
    await syncCase(ctx, 'sync_1k_16', 16, 2);
    await syncCase(ctx, 'sync_1k_256', 256, 3);
  }
  if (want('rss')) await rssCase(ctx, isTs);
  if (want('restart')) await restartCase(ctx, isTs);
  return ctx.figures;
}

function summary(): Record<string, unknown> {
  const out = summarizeRuns(runs, {
    lowerIsBetter: (k) => k.endsWith('_ms') || k.endsWith('_device_mib'),
  });
  out.runtime = isTs ? 'tsx' : 'compiled';
  out.node = process.version;
  out.cpus = cpus().length;
  out.loadavg_start = Math.round(load0 * 100) / 100;
  out.loadavg_end = Math.round(loadavg()[0]! * 100) / 100;
  if (Object.keys(base).length > 0) out.config = JSON.stringify(base);
  return out;
}

try {
  console.log(
    `store bench: ${isTs ? 'TypeScript through tsx' : 'compiled JavaScript'}, ${repeat} run(s), data in ${root}`,
  );
  for (let i = 0; i < repeat; i++) {
    if (repeat > 1) console.log(`-- run ${i + 1}/${repeat} (load average ${loadavg()[0]!.toFixed(2)})`);
    runs.push(await once());
  }
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  clearInterval(rssTimer);
  rmSync(root, { recursive: true, force: true });
  console.log(JSON.stringify(summary()));
}
