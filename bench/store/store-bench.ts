/**
 * Message store benchmark: append throughput (ASYNC_FLUSH 100 B / 1 KiB / 4 KiB; SYNC_FLUSH 1 KiB
 * with 1, 16, 256 concurrent puts), read throughput by queue, and peak RSS while appending 2 GiB.
 * Prints one line per case and, last, one JSON object with every figure. Uses a temp dir under
 * /tmp, deleted at the end. Run: npm run bench:store
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageStore } from '../../src/store/message-store.js';
import { defaultMessageStoreConfig, type MessageStoreConfig } from '../../src/store/message-store-config.js';
import type { MessageToStore } from '../../src/store/store-types.js';
import { encodeSocketAddr } from '../../src/common/socket-address.js';

const MiB = 1024 * 1024;
const root = mkdtempSync(join(tmpdir(), 'rmq-store-bench-'));
const figures: Record<string, number> = {};
let peakRss = 0;
const rssTimer = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
}, 20);

function config(name: string, over: Partial<MessageStoreConfig> = {}): MessageStoreConfig {
  return defaultMessageStoreConfig({ storePathRootDir: join(root, name), ...over });
}

const bornHost = encodeSocketAddr({ host: '10.0.0.1', port: 40000 });
let uniq = 0;
function message(topic: string, queueId: number, body: Buffer): MessageToStore {
  uniq++;
  return {
    topic,
    queueId,
    body,
    flag: 0,
    properties: `TAGS\u0001TagA\u0002UNIQ_KEY\u00017F0000010F2A1B2C3D4E${uniq.toString(16).toUpperCase().padStart(12, '0')}\u0002WAIT\u0001true`,
    sysFlag: 0,
    bornTimestamp: Date.now(),
    bornHost,
  };
}

/** Puts `count` messages keeping `window` in flight; returns elapsed seconds. */
async function run(
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
    const next = (): void => {
      while (issued < count && issued - done < window) {
        const i = issued++;
        store.putMessage(message('BenchTopic', i % queues, body)).then(
          (r) => {
            if (r.status !== 'PUT_OK') failed++;
            done++;
            if (done === count) resolve();
            else if (issued < count) next();
          },
          () => {
            failed++;
            done++;
            if (done === count) resolve();
          },
        );
      }
    };
    next();
  });
  if (failed > 0) throw new Error(`${failed} puts failed`);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function report(name: string, msgs: number, bytes: number, secs: number): void {
  const mps = msgs / secs;
  const mibs = bytes / MiB / secs;
  figures[`${name}_msgs`] = Math.round(mps);
  figures[`${name}_mibs`] = Math.round(mibs * 10) / 10;
  console.log(
    `${name.padEnd(16)} ${Math.round(mps).toString().padStart(9)} msgs/s ${mibs.toFixed(1).padStart(8)} MiB/s  (${msgs} msgs in ${secs.toFixed(2)} s)`,
  );
}

async function asyncCase(name: string, size: number, totalBytes: number): Promise<MessageStore> {
  const store = new MessageStore(config(name), { storeHost: { host: '127.0.0.1', port: 10911 } });
  await store.start();
  const count = Math.floor(totalBytes / size);
  const secs = await run(store, count, Math.min(16384, Math.floor((32 * MiB) / size)), size, 4);
  report(name, count, count * size, secs);
  return store;
}

async function syncCase(name: string, concurrency: number, seconds: number): Promise<void> {
  const store = new MessageStore(config(name, { flushDiskType: 'SYNC_FLUSH' }), {
    storeHost: { host: '127.0.0.1', port: 10911 },
  });
  await store.start();
  // Estimate a count that takes about `seconds`.
  const probe = await run(store, concurrency * 20, concurrency, 1024, 4);
  const count = Math.max(concurrency * 20, Math.floor(((concurrency * 20) / probe) * seconds));
  const secs = await run(store, count, concurrency, 1024, 4);
  report(name, count, count * 1024, secs);
  await store.shutdown();
}

async function readCase(store: MessageStore, name: string): Promise<void> {
  let msgs = 0;
  let bytes = 0;
  const t0 = process.hrtime.bigint();
  for (let q = 0; q < 4; q++) {
    let offset = 0;
    const max = store.getMaxOffsetInQueue('BenchTopic', q);
    while (offset < max) {
      const r = await store.getMessage('g', 'BenchTopic', q, offset, 32);
      if (r.status !== 'FOUND') throw new Error(`read ${q}@${offset}: ${r.status}`);
      msgs += r.messages.length;
      bytes += r.bufferTotalSize;
      offset = r.nextBeginOffset;
    }
  }
  report(name, msgs, bytes, Number(process.hrtime.bigint() - t0) / 1e9);
}

async function main(): Promise<void> {
  const s100 = await asyncCase('async_100b', 100, 128 * MiB);
  await s100.shutdown();
  const s1k = await asyncCase('async_1k', 1024, 1024 * MiB);
  await s1k.reput.caughtUp();
  await readCase(s1k, 'read_1k');
  await s1k.shutdown();
  rmSync(join(root, 'async_1k'), { recursive: true, force: true });
  const s4k = await asyncCase('async_4k', 4096, 1024 * MiB);
  await s4k.shutdown();
  rmSync(join(root, 'async_4k'), { recursive: true, force: true });
  await syncCase('sync_1k_1', 1, 2);
  await syncCase('sync_1k_16', 16, 2);
  await syncCase('sync_1k_256', 256, 3);
  // Peak RSS while appending 2 GiB of 4 KiB messages.
  peakRss = 0;
  const big = await asyncCase('rss_2g', 4096, 2048 * MiB);
  await big.shutdown();
  figures.peak_rss_mib = Math.round((peakRss / MiB) * 10) / 10;
  console.log(`peak RSS while appending 2 GiB: ${figures.peak_rss_mib} MiB`);
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => {
    clearInterval(rssTimer);
    rmSync(root, { recursive: true, force: true });
    console.log(JSON.stringify(figures));
  });
