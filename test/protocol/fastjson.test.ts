import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mapEntries, objectKeyedEntries, parseJson, writeJson } from '../../src/protocol/fastjson.js';

test('integer-keyed maps are unquoted in fastjson form and quoted in standard form', () => {
  const value = {
    brokerAddrs: new Map([
      [0, 'a:1'],
      [1, 'b:2'],
    ]),
    cluster: 'C',
  };
  assert.equal(writeJson(value), '{"brokerAddrs":{0:"a:1",1:"b:2"},"cluster":"C"}');
  assert.equal(writeJson(value, { standard: true }), '{"brokerAddrs":{"0":"a:1","1":"b:2"},"cluster":"C"}');
});

test('object-keyed maps are written with the object as key and read back', () => {
  const mq = { topic: 'T', brokerName: 'b', queueId: 0 };
  const text = writeJson({ offsetTable: new Map([[mq, { maxOffset: 5 }]]) });
  assert.equal(text, '{"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:{"maxOffset":5}}}');
  const parsed = parseJson(text) as { offsetTable: unknown };
  assert.deepEqual(objectKeyedEntries(parsed.offsetTable), [
    [{ brokerName: 'b', queueId: 0, topic: 'T' }, { maxOffset: 5 }],
  ]);
});

test('the reader accepts the non-standard forms RocketMQ writes', () => {
  const fromFile = '{\n\t"offsetTable":{\n\t\t"TopicTest@group":{0:250,1:250,2:251,3:249}\n\t}\n}';
  const parsed = parseJson(fromFile) as { offsetTable: Record<string, unknown> };
  assert.deepEqual(mapEntries(parsed.offsetTable['TopicTest@group']), [
    ['0', 250],
    ['1', 250],
    ['2', 251],
    ['3', 249],
  ]);
  assert.deepEqual(parseJson("{'a':'b'}"), { a: 'b' });
  assert.throws(() => parseJson('{"a":}'));
  assert.throws(() => parseJson('{"a":1} x'));
});

test('property: standard JSON values read back the same as JSON.parse', () => {
  fc.assert(
    fc.property(fc.jsonValue(), (v) => {
      const text = JSON.stringify(v);
      // The parser drops `__proto__` keys on purpose (fastjson.ts); expect the same.
      const expected: unknown = JSON.parse(text, (k, x: unknown) => (k === '__proto__' ? undefined : x));
      assert.deepEqual(parseJson(text), expected);
    }),
    { numRuns: 300 },
  );
});

test('property: pretty output parses to the same value', () => {
  fc.assert(
    fc.property(
      fc.dictionary(
        fc.string().filter((k) => k !== '__proto__'),
        fc.oneof(fc.integer(), fc.string(), fc.boolean()),
      ),
      (obj) => {
        assert.deepEqual(parseJson(writeJson(obj, { pretty: true })), { ...obj });
      },
    ),
  );
});
