/**
 * Child process of the RSS case (bench-cases.ts): a fresh process that appends 2 GiB of 4 KiB
 * messages to the store given as JSON in argv[2] (32 MiB in flight, as the other 4 KiB case) and
 * prints one JSON line: peak RSS (sampled every 20 ms) and throughput. A fresh process, so the
 * figure is what appending costs, not what earlier cases left in the benchmark's heap.
 */
import { MessageStore } from '../../src/store/message-store.js';
import { defaultMessageStoreConfig } from '../../src/store/message-store-config.js';
import { MiB, run } from './bench-cases.js';

let peak = 0;
const timer = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage.rss());
}, 20);
const store = new MessageStore(defaultMessageStoreConfig(JSON.parse(process.argv[2]!)), {
  storeHost: { host: '127.0.0.1', port: 10911 },
});
await store.start();
const count = (2048 * MiB) / 4096;
const secs = await run(store, count, (32 * MiB) / 4096, 4096, 4);
await store.shutdown();
clearInterval(timer);
process.stdout.write(`${JSON.stringify({ peak, secs, count })}\n`);
