/**
 * The real `ali-ons` client (npm, RocketMQ 4.x remoting protocol, not written by us) against an
 * in-process rocketmq-ts NameServer and broker. Nothing of ali-ons is patched or wrapped: what it
 * does differently (reference §7) must be handled by the servers.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRequest } from '../../src/remoting/remoting-command.js';
import { RequestCode } from '../../src/protocol/request-code.js';
import { QueryMessageRequestHeader, ViewMessageRequestHeader } from '../../src/protocol/broker-headers.js';
import { decodeRecords } from '../../src/common/message/message-record.js';
import { decodeOffsetMsgId } from '../../src/common/message/message-id.js';
import { startNamesrv } from '../helpers/namesrv.js';
import { startBroker } from '../helpers/broker.js';
import { testClient } from '../helpers/broker-calls.js';
import {
  Admin,
  ConsumeConcurrentlyStatus,
  Message,
  Producer,
  PushConsumer,
  type MessageExt,
} from '../../src/index.js';
import { waitFor } from '../helpers/wait.js';

const require = createRequire(import.meta.url);

interface OnsMessage {
  topic: string;
  tags: string;
  keys: string[];
  body: Buffer;
  msgId: string;
  reconsumeTimes: number;
  properties: Record<string, string>;
}
interface OnsSendResult {
  sendStatus: string;
  msgId: string;
  queueOffset: number;
  messageQueue: { topic: string; brokerName: string; queueId: number };
}
interface OnsProducer {
  ready(): Promise<void>;
  send(msg: unknown): Promise<OnsSendResult>;
  close(): Promise<void>;
  on(event: 'error', fn: (err: Error) => void): void;
}
interface OnsConsumer {
  ready(): Promise<void>;
  subscribe(topic: string, expr: string, handler: (msg: OnsMessage) => Promise<unknown>): void;
  close(): Promise<void>;
  on(event: 'error', fn: (err: Error) => void): void;
}
const ons = require('ali-ons') as {
  Producer: (new (o: Record<string, unknown>) => OnsProducer) & { defaultProducer?: OnsProducer };
  Consumer: new (o: Record<string, unknown>) => OnsConsumer;
  Message: new (
    topic: string,
    tags: string,
    body: string | Buffer,
  ) => { keys: string[]; properties: Record<string, string> };
};

const quiet = { info() {}, warn() {}, error() {}, debug() {} };
const FAST_LEVELS = { messageDelayLevel: '1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s' };

describe('ali-ons 3.12.0 against rocketmq-ts', async () => {
  // Registered first so it runs before the servers stop: close every ali-ons client, including
  // the process-wide inner producer ali-ons creates for consumers' fallback retries.
  const opened: { close(): Promise<void> }[] = [];
  after(async () => {
    for (const c of opened.reverse()) await c.close().catch(() => undefined);
    await ons.Producer.defaultProducer?.close();
  });
  const { addr: nameSrv } = await startNamesrv();
  const { addr: brokerAddr } = await startBroker({ namesrvAddr: nameSrv, props: FAST_LEVELS });
  const admin = testClient();
  // Our SDK's admin client creates what ali-ons needs: it cannot auto-create topics.
  const sdkAdmin = new Admin({ namesrvAddr: nameSrv, instanceName: 'ons-admin' });
  await sdkAdmin.start();
  opened.push({ close: () => sdkAdmin.shutdown() });
  const errors: Error[] = [];
  // ali-ons' periodic tasks sleep their whole interval before noticing close(), so the test
  // process would linger 30 s after the last test: short intervals keep it quick.
  const common = {
    nameSrv,
    httpclient: {},
    logger: quiet,
    responseTimeout: 3000,
    pollNameServerInteval: 2000,
    heartbeatBrokerInterval: 2000,
    rebalanceInterval: 2000,
    persistConsumerOffsetInterval: 1000,
  };

  // Each test runs its own ali-ons client instance (instanceName), as separate applications would.
  function producer(group: string, instanceName: string): OnsProducer {
    const p = new ons.Producer({ ...common, producerGroup: group, instanceName });
    p.on('error', (e) => errors.push(e));
    opened.push(p);
    return p;
  }
  function consumer(group: string, instanceName: string): OnsConsumer {
    const c = new ons.Consumer({
      ...common,
      consumerGroup: group,
      instanceName,
      consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
      // ali-ons keeps a long poll's client timer running after close(); short polls let the test
      // process end soon after the last test instead of 30 s later.
      brokerSuspendMaxTimeMillis: 1000,
      consumerTimeoutMillisWhenSuspend: 3000,
    });
    c.on('error', (e) => errors.push(e));
    opened.push(c);
    return c;
  }
  /** What a user does before starting ali-ons (it cannot auto-create): topic and group by admin. */
  async function prepare(topic: string, queues: number, group: string): Promise<void> {
    await sdkAdmin.createTopic(topic, { readQueueNums: queues, writeQueueNums: queues });
    await sdkAdmin.createSubscriptionGroup({ groupName: group });
    for (const t of [topic, `%RETRY%${group}`]) {
      await waitFor(
        () =>
          sdkAdmin.examineTopicRoute(t).then(
            () => true,
            () => false,
          ),
        `route of ${t}`,
      );
    }
  }

  test('producer sends tags, keys and user properties; a tag-subscribed push consumer receives every match', async () => {
    await prepare('OnsTopic', 4, 'OnsCG');
    const p = producer('OnsPG', 'ons-t1');
    await p.ready();
    const sent: OnsSendResult[] = [];
    for (let i = 0; i < 40; i++) {
      const msg = new ons.Message('OnsTopic', i % 2 === 0 ? 'TagA' : 'TagB', `ons body ${i}`);
      msg.keys = [`key-${i}`, 'all-ons'];
      msg.properties.userProp = `value-${i}`;
      const r = await p.send(msg);
      assert.equal(r.sendStatus, 'SEND_OK');
      sent.push(r);
    }
    const got = new Map<string, OnsMessage>();
    const c = consumer('OnsCG', 'ons-t1');
    await c.ready();
    c.subscribe('OnsTopic', 'TagA', async (msg) => {
      got.set(msg.body.toString(), msg);
    });
    await waitFor(() => got.size >= 20, 'TagA messages', 30_000);
    await sleep(300);
    assert.equal(got.size, 20, 'only TagA messages were delivered');
    for (let i = 0; i < 40; i += 2) {
      const m = got.get(`ons body ${i}`);
      assert.ok(m, `message ${i}`);
      assert.equal(m.tags, 'TagA');
      assert.equal(String(m.keys), `key-${i} all-ons`, 'KEYS travel space-separated');
      assert.equal(m.properties.userProp, `value-${i}`);
      assert.equal(m.msgId, sent[i]!.msgId, 'ali-ons msgId = broker offsetMsgId');
    }
    await c.close();

    // Message ids ali-ons reports resolve with VIEW_MESSAGE_BY_ID; its keys are found by QUERY_MESSAGE.
    const { offset } = decodeOffsetMsgId(sent[4]!.msgId);
    const view = await admin.invoke(
      brokerAddr,
      createRequest(RequestCode.VIEW_MESSAGE_BY_ID, {
        extFields: ViewMessageRequestHeader.encode({ offset }),
      }),
    );
    assert.equal(decodeRecords(view.body!)[0]!.body.toString(), 'ons body 4');
    const q = await admin.invoke(
      brokerAddr,
      createRequest(RequestCode.QUERY_MESSAGE, {
        extFields: QueryMessageRequestHeader.encode({
          topic: 'OnsTopic',
          key: 'key-7',
          maxNum: 32,
          beginTimestamp: 0,
          endTimestamp: Date.now() + 1000,
        }),
      }),
    );
    assert.deepEqual(
      decodeRecords(q.body!).map((m) => m.body.toString()),
      ['ons body 7'],
    );
  });

  test('a handler that fails once gets the message again through the retry topic', async () => {
    await prepare('OnsRetry', 1, 'OnsRetryCG');
    const p = producer('OnsRetryPG', 'ons-t2');
    await p.ready();
    await p.send(new ons.Message('OnsRetry', 'TagR', 'fail me once'));
    const seen: number[] = [];
    const c = consumer('OnsRetryCG', 'ons-t2');
    await c.ready();
    c.subscribe('OnsRetry', '*', async (msg) => {
      seen.push(msg.reconsumeTimes);
      if (seen.length === 1) throw new Error('first attempt fails');
    });
    await waitFor(() => seen.length >= 2, 'redelivery through %RETRY%', 60_000);
    assert.deepEqual(seen.slice(0, 2), [0, 1]);
  });

  test('committed offsets make a restarted consumer resume where it stopped', async () => {
    await prepare('OnsResume', 2, 'OnsResumeCG');
    const p = producer('OnsResumePG', 'ons-t3');
    await p.ready();
    for (let i = 0; i < 10; i++) await p.send(new ons.Message('OnsResume', 'T', `first-${i}`));
    const first: string[] = [];
    const c1 = consumer('OnsResumeCG', 'ons-t3');
    await c1.ready();
    c1.subscribe('OnsResume', '*', async (msg) => {
      first.push(msg.body.toString());
    });
    await waitFor(() => first.length >= 10, 'first batch', 30_000);
    await c1.close();
    for (let i = 0; i < 10; i++) await p.send(new ons.Message('OnsResume', 'T', `second-${i}`));
    const second: string[] = [];
    const c2 = consumer('OnsResumeCG', 'ons-t3b');
    await c2.ready();
    c2.subscribe('OnsResume', '*', async (msg) => {
      second.push(msg.body.toString());
    });
    await waitFor(() => second.length >= 10, 'second batch', 30_000);
    await sleep(500);
    assert.deepEqual(
      second.filter((b) => b.startsWith('first-')),
      [],
      'nothing consumed twice',
    );
    assert.deepEqual([...new Set(second)].sort(), Array.from({ length: 10 }, (_, i) => `second-${i}`).sort());
  });

  test('cross-client: what ali-ons sends our SDK consumes byte-identically, and the reverse', async () => {
    await prepare('Cross', 2, 'CrossOnsCG');
    await sdkAdmin.createSubscriptionGroup({ groupName: 'CrossSdkCG' });
    const bodies = [
      Buffer.from('plain text'),
      Buffer.from([0, 1, 2, 255, 254, 0x80]),
      Buffer.alloc(6000, 'z'),
    ];

    // ali-ons -> rocketmq-ts SDK
    const p = producer('CrossOnsPG', 'ons-t4');
    await p.ready();
    const onsSent: OnsSendResult[] = [];
    for (const [i, body] of bodies.entries()) {
      const m = new ons.Message('Cross', 'FromOns', body);
      m.keys = [`ons-${i}`];
      m.properties.origin = 'ali-ons';
      onsSent.push(await p.send(m));
    }
    const fromOns: MessageExt[] = [];
    const sdkConsumer = new PushConsumer({
      consumerGroup: 'CrossSdkCG',
      namesrvAddr: nameSrv,
      instanceName: 'sdk-cross',
      consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    });
    opened.push({ close: () => sdkConsumer.shutdown() });
    sdkConsumer.subscribe('Cross', 'FromOns');
    sdkConsumer.registerMessageListener((msgs) => {
      fromOns.push(...msgs);
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    await sdkConsumer.start();
    await waitFor(() => fromOns.length >= bodies.length, 'SDK consumer gets the ali-ons messages', 30_000);
    for (const [i, body] of bodies.entries()) {
      const m = fromOns.find((x) => x.keys.includes(`ons-${i}`));
      assert.ok(m, `ali-ons message ${i}`);
      assert.ok(
        m.body.equals(body),
        `body ${i} byte-identical (ali-ons compresses above 4 KiB, our SDK inflates)`,
      );
      assert.equal(m.tags, 'FromOns');
      assert.equal(m.getUserProperty('origin'), 'ali-ons');
      assert.equal(m.offsetMsgId, onsSent[i]!.msgId);
    }

    // rocketmq-ts SDK -> ali-ons
    const sdkProducer = new Producer({
      producerGroup: 'CrossSdkPG',
      namesrvAddr: nameSrv,
      instanceName: 'sdk-cross-p',
    });
    opened.push({ close: () => sdkProducer.shutdown() });
    await sdkProducer.start();
    for (const [i, body] of bodies.entries()) {
      await sdkProducer.send(
        new Message('Cross', body, {
          tags: 'FromSdk',
          keys: [`sdk-${i}`],
          properties: { origin: 'rocketmq-ts' },
        }),
      );
    }
    const fromSdk: OnsMessage[] = [];
    const c = consumer('CrossOnsCG', 'ons-t4');
    await c.ready();
    c.subscribe('Cross', 'FromSdk', async (msg) => {
      fromSdk.push(msg);
    });
    await waitFor(() => fromSdk.length >= bodies.length, 'ali-ons gets the SDK messages', 30_000);
    for (const [i, body] of bodies.entries()) {
      const m = fromSdk.find((x) => String(x.keys) === `sdk-${i}`);
      assert.ok(m, `SDK message ${i}`);
      assert.ok(
        Buffer.from(m.body).equals(body),
        `body ${i} byte-identical (our SDK compresses above 4 KiB with zlib, ali-ons inflates)`,
      );
      assert.equal(m.tags, 'FromSdk');
      assert.equal(m.properties.origin, 'rocketmq-ts');
    }
  });

  test('no client error was emitted against our servers (besides the handler failure we caused)', () => {
    const unexpected = errors.map((e) => e.message).filter((m) => !m.includes('first attempt fails'));
    assert.deepEqual(unexpected, []);
  });
});
