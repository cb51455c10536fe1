/**
 * Reproduces, in one process and without network, how the store serves consumers of a topic
 * whose queues are read concurrently (what workload B of bench:e2e does through the broker):
 * loads 200,000 x 1 KiB into 8 queues (batches of 128, round robin), then reads every queue with
 * its own loop of getMessage(32). `--pace=ms` makes the readers progress at different speeds
 * (queue q waits pace x (1 + q % 3) ms between pulls), as real consumers drift apart.
 *   node --import tsx bench/tools/store-read-repro.ts [--pace=1]
 * Prints msgs/s and getMessage latency percentiles; temp dir under /tmp, removed at the end.
 */
import '../e2e/quiet-logs.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageStore } from '../../src/store/message-store.js';
import { defaultMessageStoreConfig } from '../../src/store/message-store-config.js';
import { encodeSocketAddr } from '../../src/common/socket-address.js';
import { encodeBatch } from '../../src/store/batch-decoder.js';

const pace = Number(process.argv.find((a) => a.startsWith('--pace='))?.slice(7) ?? 0);
const QUEUES = 8;
const COUNT = 200_000;
const dir = mkdtempSync(join(tmpdir(), 'rmq-read-repro-'));
const store = new MessageStore(defaultMessageStoreConfig({ storePathRootDir: join(dir, 'store') }), {
  storeHost: { host: '127.0.0.1', port: 10911 },
});
try {
  await store.start();
  const body = Buffer.alloc(1024, 97);
  const bornHost = encodeSocketAddr({ host: '10.0.0.1', port: 4000 });
  let uniq = 0;
  const puts: Promise<unknown>[] = [];
  for (let i = 0; i < COUNT / 128; i++) {
    const batch = encodeBatch(
      Array.from({ length: 128 }, () => ({
        body,
        properties: `UNIQ_KEY\u00017F0000010F2A1B2C3D4E${(uniq++).toString(16).padStart(12, '0')}`,
      })),
    );
    puts.push(
      store.putMessages({
        topic: 'T',
        queueId: i % QUEUES,
        body: batch,
        sysFlag: 0,
        bornTimestamp: Date.now(),
        bornHost,
        properties: 'WAIT\u0001true',
      }),
    );
    if (puts.length > 16) await puts.shift();
  }
  await Promise.all(puts);
  await new Promise((r) => setTimeout(r, 1000));
  const latency: number[] = [];
  let msgs = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: QUEUES }, async (_, q) => {
      let offset = 0;
      const max = store.getMaxOffsetInQueue('T', q);
      while (offset < max) {
        const t = performance.now();
        const r = await store.getMessage('g', 'T', q, offset, 32);
        latency.push(performance.now() - t);
        msgs += r.messages.length;
        offset = r.nextBeginOffset;
        if (pace > 0) await new Promise((res) => setTimeout(res, pace * (1 + (q % 3))));
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  latency.sort((a, b) => a - b);
  const q = (p: number): number => Math.round(latency[Math.floor(p * (latency.length - 1))]! * 1000) / 1000;
  process.stdout.write(
    JSON.stringify({
      pace,
      msgs,
      msgs_per_s: Math.round(msgs / secs),
      get_p50_ms: q(0.5),
      get_p99_ms: q(0.99),
    }) + '\n',
  );
} finally {
  await store.shutdown();
  rmSync(dir, { recursive: true, force: true });
}
