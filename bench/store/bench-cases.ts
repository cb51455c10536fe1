/**
 * The store benchmark's cases (store-bench.ts runs them): append throughput under ASYNC_FLUSH
 * (100 B / 1 KiB / 4 KiB bodies) and SYNC_FLUSH (1 KiB, 1 / 16 / 256 concurrent puts), reads of the
 * 1 KiB store by queue, peak RSS while appending 2 GiB, and the restart after kill -9 of a process
 * that was appending to a ~3 GiB store. Every case works in its own directory under `root`.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { diskReadBytes } from '../disk-read-bytes.js';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { MessageStore } from '../../src/store/message-store.js';
import { defaultMessageStoreConfig, type MessageStoreConfig } from '../../src/store/message-store-config.js';
import type { MessageToStore } from '../../src/store/store-types.js';
import { encodeSocketAddr } from '../../src/common/socket-address.js';

export const MiB = 1024 * 1024;
const STORE_HOST = { host: '127.0.0.1', port: 10911 };

export interface BenchContext {
  root: string;
  figures: Record<string, number>;
  /** Store config every case starts from (e.g. commitLogDirectIo). */
  base: Partial<MessageStoreConfig>;
  /** Peak RSS sampling (bytes), reset by the RSS case. */
  peakRss: { value: number };
}

function config(ctx: BenchContext, name: string, over: Partial<MessageStoreConfig> = {}): MessageStoreConfig {
  return defaultMessageStoreConfig({ storePathRootDir: join(ctx.root, name), ...ctx.base, ...over });
}

const bornHost = encodeSocketAddr({ host: '10.0.0.1', port: 40000 });
let uniq = 0;

/**
 * Properties as a producer sends them: tags, a unique key, WAIT. The broker hands the store a
 * string it decoded from the request frame in one go, so the harness does the same: it writes the
 * key's counter digits into these bytes and decodes them (building the string with template
 * literals, toString(16) and padStart cost the harness more than the store's whole put).
 */
const PROPS_PREFIX = 'TAGS\u0001TagA\u0002UNIQ_KEY\u00017F0000010F2A1B2C3D4E';
const PROPS = Buffer.from(`${PROPS_PREFIX}${'0'.repeat(12)}\u0002WAIT\u0001true`, 'latin1');
const HEX = Buffer.from('0123456789ABCDEF', 'latin1');

/** A message as the broker hands it to the store. */
export function message(topic: string, queueId: number, body: Buffer): MessageToStore {
  uniq++;
  let n = uniq;
  for (let i = PROPS_PREFIX.length + 11; i >= PROPS_PREFIX.length; i--) {
    PROPS[i] = HEX[n % 16]!;
    n = Math.floor(n / 16);
  }
  return {
    topic,
    queueId,
    body,
    flag: 0,
    properties: PROPS.toString('latin1'),
    sysFlag: 0,
    bornTimestamp: Date.now(),
    bornHost,
  };
}

/** Puts `count` messages keeping `window` in flight; returns elapsed seconds. */
export async function run(
  store: MessageStore,
  count: number,
  window: number,
  size: number,
  queues: number,
): Promise<number> {
  const body = Buffer.alloc(size, 0x61);
  let issued = 0;
  let done = 0;
  let failed = 0;
  const t0 = process.hrtime.bigint();
  await new Promise<void>((resolve) => {
    // One pair of callbacks for every put: closures made per put were the harness's garbage.
    const onPut = (r: { status: string }): void => {
      if (r.status !== 'PUT_OK') failed++;
      done++;
      if (done === count) resolve();
      else if (issued < count) next();
    };
    const onError = (): void => {
      failed++;
      done++;
      if (done === count) resolve();
    };
    const next = (): void => {
      while (issued < count && issued - done < window) {
        const i = issued++;
        store.putMessage(message('BenchTopic', i % queues, body)).then(onPut, onError);
      }
    };
    next();
  });
  if (failed > 0) throw new Error(`${failed} puts failed`);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

export function report(ctx: BenchContext, name: string, msgs: number, bytes: number, secs: number): void {
  const mps = msgs / secs;
  const mibs = bytes / MiB / secs;
  ctx.figures[`${name}_msgs`] = Math.round(mps);
  ctx.figures[`${name}_mibs`] = Math.round(mibs * 10) / 10;
  console.log(
    `${name.padEnd(16)} ${Math.round(mps).toString().padStart(9)} msgs/s ${mibs.toFixed(1).padStart(8)} MiB/s  (${msgs} msgs in ${secs.toFixed(2)} s)`,
  );
}

/** ASYNC_FLUSH appends of `totalBytes` in `size`-byte bodies over 4 queues; returns the open store. */
export async function asyncCase(
  ctx: BenchContext,
  name: string,
  size: number,
  totalBytes: number,
  over: Partial<MessageStoreConfig> = {},
): Promise<MessageStore> {
  const store = new MessageStore(config(ctx, name, over), { storeHost: STORE_HOST });
  await store.start();
  const count = Math.floor(totalBytes / size);
  try {
    // Up to 16384 puts or 32 MiB in flight (half the default write queue bound).
    const secs = await run(store, count, Math.min(16384, Math.floor((32 * MiB) / size)), size, 4);
    report(ctx, name, count, count * size, secs);
    return store;
  } catch (err) {
    // Closed before the bench removes its folder: an open store would write files into it again.
    await store.shutdown();
    throw err;
  }
}

export async function syncCase(
  ctx: BenchContext,
  name: string,
  concurrency: number,
  seconds: number,
): Promise<void> {
  const store = new MessageStore(config(ctx, name, { flushDiskType: 'SYNC_FLUSH' }), {
    storeHost: STORE_HOST,
  });
  await store.start();
  // Estimate a count that takes about `seconds`.
  const probe = await run(store, concurrency * 20, concurrency, 1024, 4);
  const count = Math.max(concurrency * 20, Math.floor(((concurrency * 20) / probe) * seconds));
  const secs = await run(store, count, concurrency, 1024, 4);
  report(ctx, name, count, count * 1024, secs);
  await store.shutdown();
  rmSync(join(ctx.root, name), { recursive: true, force: true });
}

/**
 * Reads every queue of the store front to back, 32 messages per getMessage: one queue after
 * another (`concurrent` false: each queue's records are spread over the whole CommitLog, so the
 * four passes read it four times from the device), or all four at once as a consumer's pulls of
 * the four queues do (the CommitLog is read about once).
 */
export async function readCase(
  ctx: BenchContext,
  store: MessageStore,
  name: string,
  concurrent = false,
): Promise<void> {
  let msgs = 0;
  let bytes = 0;
  const readQueue = async (q: number): Promise<void> => {
    let offset = 0;
    const max = store.getMaxOffsetInQueue('BenchTopic', q);
    while (offset < max) {
      const r = await store.getMessage('g', 'BenchTopic', q, offset, 32);
      if (r.status !== 'FOUND') throw new Error(`read ${q}@${offset}: ${r.status}`);
      msgs += r.messages.length;
      bytes += r.bufferTotalSize;
      offset = r.nextBeginOffset;
    }
  };
  const t0 = process.hrtime.bigint();
  const io0 = diskReadBytes();
  if (concurrent) await Promise.all([0, 1, 2, 3].map(readQueue));
  else for (let q = 0; q < 4; q++) await readQueue(q);
  report(ctx, name, msgs, bytes, Number(process.hrtime.bigint() - t0) / 1e9);
  const device = (diskReadBytes() - io0) / MiB;
  ctx.figures[`${name}_device_mib`] = Math.round(device);
  console.log(
    `${name}: ${Math.round(device)} MiB read from the device for ${Math.round(bytes / MiB)} MiB served`,
  );
}

/**
 * Peak RSS while appending 2 GiB of 4 KiB messages: in a fresh process (rss-child.ts), and in this
 * one after the cases before it (the figure the first version of this benchmark reported; it also
 * holds whatever those cases left in the heap).
 */
export async function rssCase(ctx: BenchContext, tsx: boolean): Promise<void> {
  const cfg = config(ctx, 'rss_2g_fresh');
  const out = await child('rss-child', tsx, [JSON.stringify(cfg)]);
  rmSync(join(ctx.root, 'rss_2g_fresh'), { recursive: true, force: true });
  const r = JSON.parse(out.trim().split('\n').pop()!) as { peak: number; secs: number; count: number };
  report(ctx, 'rss_2g', r.count, r.count * 4096, r.secs);
  ctx.figures.peak_rss_mib = Math.round((r.peak / MiB) * 10) / 10;
  ctx.peakRss.value = 0;
  const big = await asyncCase(ctx, 'rss_2g_in_sequence', 4096, 2048 * MiB);
  await big.shutdown();
  rmSync(join(ctx.root, 'rss_2g_in_sequence'), { recursive: true, force: true });
  ctx.figures.peak_rss_in_sequence_mib = Math.round((ctx.peakRss.value / MiB) * 10) / 10;
  console.log(
    `peak RSS while appending 2 GiB: ${ctx.figures.peak_rss_mib} MiB in a fresh process, ` +
      `${ctx.figures.peak_rss_in_sequence_mib} MiB in this one after the cases before`,
  );
}

/** Runs bench/store/<name> as a child process (same runtime as this one); resolves with its stdout. */
async function child(name: string, tsx: boolean, args: string[]): Promise<string> {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const file = fileURLToPath(new URL(`./${name}${ext}`, import.meta.url));
  const proc = spawn(process.execPath, [...(tsx ? ['--import', 'tsx'] : []), file, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ROCKETMQ_LOG_LEVEL: 'error' },
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
  if (code !== 0) throw new Error(`${name} exited with ${code}`);
  return out;
}

/**
 * kill -9 of a process appending 4 KiB messages once its store passed ~3 GiB, then the time from
 * starting the store again (recovery included) to the first put acknowledged.
 */
export async function restartCase(ctx: BenchContext, tsx: boolean): Promise<void> {
  const dir = join(ctx.root, 'restart');
  const cfg = config(ctx, 'restart');
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const child = fileURLToPath(new URL(`./restart-child${ext}`, import.meta.url));
  const proc = spawn(process.execPath, [...(tsx ? ['--import', 'tsx'] : []), child, JSON.stringify(cfg)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ROCKETMQ_LOG_LEVEL: 'error' },
  });
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  const rl = createInterface({ input: proc.stdout! });
  let written = 0;
  const t0 = Date.now();
  await new Promise<void>((resolve, reject) => {
    rl.on('line', (line) => {
      written = Number(line);
      if (written >= 3 * 1024 * MiB) resolve();
    });
    proc.on('exit', (code) => reject(new Error(`restart child exited with ${code} at ${written} bytes`)));
  });
  proc.kill('SIGKILL');
  await exited;
  const buildSecs = (Date.now() - t0) / 1000;
  const restartStart = process.hrtime.bigint();
  const store = new MessageStore(cfg, { storeHost: STORE_HOST });
  const report = await store.start();
  const recovered = process.hrtime.bigint();
  const r = await store.putMessage(message('BenchTopic', 0, Buffer.alloc(1024, 0x62)));
  const firstPut = process.hrtime.bigint();
  if (r.status !== 'PUT_OK') throw new Error(`first put after restart: ${r.status}`);
  const ms = Number(firstPut - restartStart) / 1e6;
  ctx.figures.restart_after_kill_ms = Math.round(ms);
  console.log(
    `restart after kill -9 of a ${(written / 1024 / MiB).toFixed(2)} GiB store (built in ${buildSecs.toFixed(1)} s): ` +
      `first put accepted after ${ms.toFixed(0)} ms (recovery ${(Number(recovered - restartStart) / 1e6).toFixed(0)} ms, ` +
      `scanned ${(report.scannedBytes / MiB).toFixed(0)} MiB from ${report.scanFrom}, ${report.problems.length} problem(s))`,
  );
  await store.shutdown();
  rmSync(dir, { recursive: true, force: true });
}
