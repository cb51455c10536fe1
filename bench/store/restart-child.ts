/**
 * Child process of the restart case (bench-cases.ts): opens the store given as JSON in argv[2] and
 * appends 4 KiB messages as fast as it can until it is killed, printing the bytes acknowledged so
 * far about every 64 MiB.
 */
import { MessageStore } from '../../src/store/message-store.js';
import { defaultMessageStoreConfig } from '../../src/store/message-store-config.js';
import { message } from './bench-cases.js';

const store = new MessageStore(defaultMessageStoreConfig(JSON.parse(process.argv[2]!)), {
  storeHost: { host: '127.0.0.1', port: 10911 },
});
await store.start();
const body = Buffer.alloc(4096, 0x61);
let acked = 0;
let reported = 0;
let i = 0;
const worker = async (): Promise<void> => {
  for (;;) {
    const r = await store.putMessage(message('BenchTopic', i++ % 4, body));
    if (r.status !== 'PUT_OK') continue;
    acked += body.length;
    if (acked - reported >= 64 * 1024 * 1024) {
      reported = acked;
      process.stdout.write(`${acked}\n`);
    }
  }
};
for (let k = 0; k < 4096; k++) void worker();
