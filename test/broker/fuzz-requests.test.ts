import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createRequest } from '../../src/remoting/remoting-command.js';
import { RequestCode } from '../../src/protocol/request-code.js';
import { ResponseCode } from '../../src/protocol/response-code.js';
import { startBroker } from '../helpers/broker.js';
import { startNamesrv } from '../helpers/namesrv.js';
import { createTopic, send, testClient } from '../helpers/broker-calls.js';

/** Header values a careless or hostile client might send. */
const value = fc.oneof(
  fc.constantFrom(
    '',
    '0',
    '-1',
    '1',
    '2147483648',
    '-9999999999999',
    'NaN',
    'true',
    'false',
    '%RETRY%x',
    'TBW102',
    'T'.repeat(300),
  ),
  fc.string({ maxLength: 20 }),
  fc.integer().map(String),
);
const FIELDS = [
  'a',
  'b',
  'c',
  'd',
  'e',
  'f',
  'g',
  'h',
  'i',
  'j',
  'k',
  'l',
  'm',
  'n',
  'topic',
  'queueId',
  'queueOffset',
  'consumerGroup',
  'group',
  'offset',
  'commitOffset',
  'maxMsgNums',
  'sysFlag',
  'subscription',
  'subVersion',
  'suspendTimeoutMillis',
  'key',
  'maxNum',
  'beginTimestamp',
  'endTimestamp',
  'timestamp',
  'clientID',
  'producerGroup',
  'delayLevel',
  'commitLogOffset',
  'tranStateTableOffset',
  'commitOrRollback',
  'msgId',
  'readQueueNums',
  'writeQueueNums',
  'perm',
  'topicFilterType',
  'order',
  'groupName',
  'removeOffset',
  'namespace',
  'value',
  'brokerName',
  'brokerAddr',
  'clusterName',
  'brokerId',
  'haServerAddr',
];
const request = fc.record({
  code: fc.constantFrom(...Object.values(RequestCode), 0, 9999),
  ext: fc.dictionary(fc.constantFrom(...FIELDS), value, { maxKeys: 12 }),
  body: fc.option(
    fc.oneof(
      fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
      fc.constantFrom('{}', '[]', '{"a":', 'null', '{"mqSet":[{}]}').map((s) => Buffer.from(s)),
    ),
    { nil: undefined },
  ),
});

test('random and malformed requests of every code never take the broker or NameServer down', async () => {
  const { addr: ns } = await startNamesrv();
  const { addr } = await startBroker({ namesrvAddr: ns });
  const c = testClient();
  await createTopic(c, addr, 'FuzzTopic', 2);
  await send(c, addr, { topic: 'FuzzTopic', body: 'keep me' });
  await fc.assert(
    fc.asyncProperty(request, async (r) => {
      for (const target of [addr, ns]) {
        const req = createRequest(r.code, { extFields: { ...r.ext }, body: r.body });
        // Every answer is a response code; the call never hangs (timeouts fail the property).
        const res = await c.invoke(target, req, 10_000);
        assert.equal(typeof res.code, 'number');
      }
    }),
    { numRuns: 1000 },
  );
  // Both servers still serve, and what was stored is still there.
  assert.equal((await send(c, addr, { topic: 'FuzzTopic', body: 'after fuzz' })).code, ResponseCode.SUCCESS);
  const route = await c.invoke(
    ns,
    createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { extFields: { topic: 'FuzzTopic' } }),
  );
  assert.equal(route.code, ResponseCode.SUCCESS);
});
