// Child process for crash and lock tests. argv[2] = JSON config, argv[3] = mode:
//   "append": put messages forever, printing "i phyOffset queueId queueOffset" after each ack,
//             with argv[4] puts in flight (default 32);
//   "hold": open the store, print "ready" and wait.
import { MessageStore } from '../../../src/store/message-store.js';
import { defaultMessageStoreConfig } from '../../../src/store/message-store-config.js';
import { crashBody, crashMessage } from './crash-data.js';

const cfg = defaultMessageStoreConfig(JSON.parse(process.argv[2]!));
const mode = process.argv[3];
const store = new MessageStore(cfg, { storeHost: { host: '127.0.0.1', port: 10911 } });
try {
  await store.start();
} catch (err) {
  process.stdout.write(`error ${(err as { code?: string }).code ?? String(err)}\n`);
  process.exit(3);
}
if (mode === 'hold') {
  process.stdout.write('ready\n');
  setInterval(() => undefined, 1000);
} else {
  let i = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const n = i++;
      const r = await store.putMessage(crashMessage(n));
      if (r.status === 'PUT_OK') {
        process.stdout.write(
          `${n} ${r.appendResult!.wroteOffset} ${n % 3} ${r.appendResult!.logicsOffset}\n`,
        );
      }
      void crashBody;
    }
  };
  const inFlight = Number(process.argv[4] ?? 32);
  for (let k = 0; k < inFlight; k++) void worker();
}
