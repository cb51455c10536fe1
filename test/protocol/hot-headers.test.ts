/**
 * The hand-written hot-path header codecs must give exactly what the descriptors give: same wire
 * fields in the same order, same decoded values, same errors, for well-formed and malformed input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  PullMessageRequestHeader,
  PullMessageResponseHeader,
  SendMessageRequestHeaderV2,
  SendMessageResponseHeader,
} from '../../src/protocol/broker-headers.js';
import {
  decodePullRequest,
  decodePullResponse,
  decodeSendRequestV2,
  decodeSendResponse,
  encodePullRequest,
  encodePullResponse,
  encodeSendRequestV2,
  encodeSendResponse,
} from '../../src/protocol/hot-headers.js';

/** Drops undefined values, so an absent field and `field: undefined` compare equal. */
const clean = (v: unknown): unknown =>
  typeof v === 'object' && v !== null
    ? Object.fromEntries(
        Object.entries(v)
          .filter(([, x]) => x !== undefined)
          .map(([k, x]) => [k, clean(x)]),
      )
    : v;

const int32 = fc.integer({ min: -2147483648, max: 2147483647 });
const long = fc.maxSafeInteger().filter((n) => n >= -(2 ** 53) + 1);
const str = fc.string({ maxLength: 30 });
const opt = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined });

/** A wire value: usually a number as text, sometimes something a descriptor must reject. */
const wireNumber = fc.oneof(
  { weight: 6, arbitrary: fc.oneof(int32, long).map(String) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('', '-', '+1', '1.5', '0x10', ' 7', '00012', '-0', '99999999999999999999'),
  },
  { weight: 1, arbitrary: str },
);
const wireBool = fc.oneof(fc.constantFrom('true', 'false', 'TRUE', 'True', '', 'yes'), str);
const maybe = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: 5, arbitrary: a }, { weight: 1, arbitrary: fc.constant(undefined) });

function wire(
  fields: Record<string, fc.Arbitrary<string | undefined>>,
): fc.Arbitrary<Record<string, string>> {
  return fc
    .record(fields)
    .map(
      (r) =>
        Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as Record<string, string>,
    );
}

test('SEND_MESSAGE_V2 request: encode and decode equal the descriptor', () => {
  fc.assert(
    fc.property(
      fc.record({
        producerGroup: str,
        topic: str,
        defaultTopic: str,
        defaultTopicQueueNums: int32,
        queueId: int32,
        sysFlag: int32,
        bornTimestamp: long,
        flag: int32,
        properties: opt(str),
        reconsumeTimes: opt(int32),
        unitMode: opt(fc.boolean()),
        maxReconsumeTimes: opt(int32),
        batch: opt(fc.boolean()),
        bname: opt(str),
      }),
      (h) => {
        const fast = encodeSendRequestV2(h);
        assert.deepEqual(Object.entries(fast), Object.entries(SendMessageRequestHeaderV2.encode(h)));
        assert.deepEqual(clean(decodeSendRequestV2(fast)), clean(SendMessageRequestHeaderV2.decode(fast)));
      },
    ),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(
      wire({
        a: maybe(str),
        b: maybe(str),
        c: maybe(str),
        d: maybe(wireNumber),
        e: maybe(wireNumber),
        f: maybe(wireNumber),
        g: maybe(wireNumber),
        h: maybe(wireNumber),
        i: opt(str),
        j: opt(wireNumber),
        k: opt(wireBool),
        l: opt(wireNumber),
        m: opt(wireBool),
        n: opt(str),
      }),
      (ext) =>
        assert.deepEqual(clean(decodeSendRequestV2(ext)), clean(SendMessageRequestHeaderV2.decode(ext))),
    ),
    { numRuns: 1000 },
  );
  assert.deepEqual(decodeSendRequestV2(undefined), SendMessageRequestHeaderV2.decode(undefined));
});

test('send response: encode and decode equal the descriptor', () => {
  fc.assert(
    fc.property(
      fc.record({
        msgId: str,
        queueId: int32,
        queueOffset: long,
        transactionId: opt(str),
        MSG_REGION: opt(str),
        TRACE_ON: opt(str),
      }),
      (h) => {
        const fast = encodeSendResponse(h);
        assert.deepEqual(Object.entries(fast), Object.entries(SendMessageResponseHeader.encode(h)));
        assert.deepEqual(clean(decodeSendResponse(fast)), clean(SendMessageResponseHeader.decode(fast)));
      },
    ),
  );
  fc.assert(
    fc.property(
      wire({
        msgId: maybe(str),
        queueId: maybe(wireNumber),
        queueOffset: maybe(wireNumber),
        transactionId: opt(str),
      }),
      (ext) => assert.deepEqual(clean(decodeSendResponse(ext)), clean(SendMessageResponseHeader.decode(ext))),
    ),
    { numRuns: 500 },
  );
});

test('PULL_MESSAGE request and response: encode and decode equal the descriptors', () => {
  fc.assert(
    fc.property(
      fc.record({
        consumerGroup: str,
        topic: str,
        queueId: int32,
        queueOffset: long,
        maxMsgNums: int32,
        sysFlag: int32,
        commitOffset: long,
        suspendTimeoutMillis: long,
        subscription: opt(str),
        subVersion: long,
        expressionType: opt(str),
        bname: opt(str),
      }),
      (h) => {
        const fast = encodePullRequest(h);
        assert.deepEqual(Object.entries(fast), Object.entries(PullMessageRequestHeader.encode(h)));
        assert.deepEqual(clean(decodePullRequest(fast)), clean(PullMessageRequestHeader.decode(fast)));
      },
    ),
  );
  fc.assert(
    fc.property(
      wire({
        consumerGroup: maybe(str),
        topic: maybe(str),
        queueId: maybe(wireNumber),
        queueOffset: maybe(wireNumber),
        maxMsgNums: maybe(wireNumber),
        sysFlag: maybe(wireNumber),
        commitOffset: maybe(wireNumber),
        suspendTimeoutMillis: maybe(wireNumber),
        subscription: opt(str),
        subVersion: maybe(wireNumber),
      }),
      (ext) => assert.deepEqual(clean(decodePullRequest(ext)), clean(PullMessageRequestHeader.decode(ext))),
    ),
    { numRuns: 1000 },
  );
  fc.assert(
    fc.property(
      fc.record({ suggestWhichBrokerId: long, nextBeginOffset: long, minOffset: long, maxOffset: long }),
      (h) => {
        const fast = encodePullResponse(h);
        assert.deepEqual(Object.entries(fast), Object.entries(PullMessageResponseHeader.encode(h)));
        assert.deepEqual(decodePullResponse(fast), PullMessageResponseHeader.decode(fast));
      },
    ),
  );
  fc.assert(
    fc.property(
      wire({
        suggestWhichBrokerId: maybe(wireNumber),
        nextBeginOffset: maybe(wireNumber),
        minOffset: maybe(wireNumber),
        maxOffset: maybe(wireNumber),
      }),
      (ext) => assert.deepEqual(decodePullResponse(ext), PullMessageResponseHeader.decode(ext)),
    ),
    { numRuns: 500 },
  );
});
