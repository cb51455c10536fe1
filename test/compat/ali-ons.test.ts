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
import { ResponseCode } from '../../src/protocol/response-code.js';
import { QueryMessageRequestHeader, ViewMessageRequestHeader } from '../../src/protocol/broker-headers.js';
import { decodeRecords } from '../../src/common/message/message-record.js';
import { decodeOffsetMsgId } from '../../src/common/message/message-id.js';
import { startNamesrv } from '../helpers/namesrv.js';
import { startBroker } from '../helpers/broker.js';
import { createTopic, testClient } from '../helpers/broker-calls.js';
import { jsonBody } from '../../src/protocol/admin-bodies.js';
import type { RemotingClient } from '../../src/remoting/remoting-client.js';
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
  const errors: Error[] = [];
  // responseTimeout: ali-ons leaves a request's timer running when its connection closes; a short
  // one lets the test process exit soon after the last test.
  const common = { nameSrv, httpclient: {}, logger: quiet, responseTimeout: 3000 };

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
  async function prepare(c: RemotingClient, topic: string, queues: number, group: string): Promise<void> {
    assert.equal((await createTopic(c, brokerAddr, topic, queues)).code, ResponseCode.SUCCESS);
    const g = await c.invoke(
      brokerAddr,
      createRequest(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {
        body: jsonBody({ groupName: group }),
      }),
    );
    assert.equal(g.code, ResponseCode.SUCCESS);
    await waitFor(async () => {
      const r = await c.invoke(
        nameSrv,
        createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { extFields: { topic: `%RETRY%${group}` } }),
      );
      return r.code === ResponseCode.SUCCESS;
    }, 'retry topic route');
  }

  test('producer sends tags, keys and user properties; a tag-subscribed push consumer receives every match', async () => {
    await prepare(admin, 'OnsTopic', 4, 'OnsCG');
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
    await prepare(admin, 'OnsRetry', 1, 'OnsRetryCG');
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
    await prepare(admin, 'OnsResume', 2, 'OnsResumeCG');
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

  test('no client error was emitted against our servers (besides the handler failure we caused)', () => {
    const unexpected = errors.map((e) => e.message).filter((m) => !m.includes('first attempt fails'));
    assert.deepEqual(unexpected, []);
  });
});
