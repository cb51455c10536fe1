import type { MessageToStore } from '../../../src/store/store-types.js';

/** Deterministic body of message n (varying length so records straddle segment ends). */
export function crashBody(n: number): Buffer {
  const len = 40 + ((n * 7919) % 1500);
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; i++) b[i] = (n * 31 + i * 17) & 0xff;
  return b;
}

export function crashMessage(n: number): MessageToStore {
  return {
    topic: 'CrashTopic',
    queueId: n % 3,
    body: crashBody(n),
    flag: n,
    properties: `TAGS\u0001Tag${n % 5}\u0002KEYS\u0001key${n}\u0002UNIQ_KEY\u0001U${n}`,
    sysFlag: 0,
    bornTimestamp: 1700000000000 + n,
    bornHost: { host: '10.1.2.3', port: 4000 },
  };
}
