import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ConfigSchema,
  applyToAll,
  boolKey,
  enumKey,
  intKey,
  stringKey,
} from '../../src/common/config/config-schema.js';
import { RmqError } from '../../src/common/errors.js';

const schema = new ConfigSchema({
  listenPort: intKey(10911, { min: 0, max: 65535 }),
  mappedFileSizeCommitLog: intKey(1073741824, { aliases: ['mapedFileSizeCommitLog'] }),
  autoCreateTopicEnable: boolKey(true),
  brokerRole: enumKey(['ASYNC_MASTER', 'SYNC_MASTER', 'SLAVE'] as const, 'ASYNC_MASTER'),
  brokerName: stringKey('broker-a'),
});

test('typed values, aliases and defaults', () => {
  const cfg = schema.defaults();
  const unknown = schema.apply(
    cfg,
    new Map([
      ['listenPort', ' 10921 '],
      ['mapedFileSizeCommitLog', '1024'],
      ['autoCreateTopicEnable', 'FALSE'],
      ['brokerRole', 'SLAVE'],
      ['flushDiskTyp', 'ASYNC_FLUSH'],
    ]),
    'broker.properties',
  );
  assert.deepEqual(unknown, ['flushDiskTyp']);
  assert.equal(cfg.listenPort, 10921);
  assert.equal(cfg.mappedFileSizeCommitLog, 1024);
  assert.equal(cfg.autoCreateTopicEnable, false);
  assert.equal(cfg.brokerRole, 'SLAVE');
  assert.equal(cfg.brokerName, 'broker-a');
});

test('a wrong value names the key and the file and changes nothing', () => {
  for (const [key, value, expected] of [
    [
      'listenPort',
      'abc',
      /broker\.properties: invalid value 'abc' for key 'listenPort', expected an integer/,
    ],
    ['listenPort', '70000', /expected an integer <= 65535/],
    ['brokerRole', 'MASTER', /key 'brokerRole', expected one of ASYNC_MASTER, SYNC_MASTER, SLAVE/],
    ['autoCreateTopicEnable', 'ture', /expected true or false/],
  ] as const) {
    const cfg = schema.defaults();
    assert.throws(
      () =>
        schema.apply(
          cfg,
          new Map([
            ['brokerName', 'changed'],
            [key, value],
          ]),
          'broker.properties',
        ),
      (err: unknown) =>
        err instanceof RmqError && err.code === 'RMQ_CONFIG_INVALID' && expected.test(err.message),
    );
    assert.equal(cfg.brokerName, 'broker-a', 'nothing applied from a bad file');
  }
});

test('applyToAll spreads one file over several schemas and reports keys none knows', () => {
  const other = new ConfigSchema({
    flushDiskType: enumKey(['ASYNC_FLUSH', 'SYNC_FLUSH'] as const, 'ASYNC_FLUSH'),
  });
  const a = schema.defaults();
  const b = other.defaults();
  const unknown = applyToAll(
    new Map([
      ['listenPort', '1'],
      ['flushDiskType', 'SYNC_FLUSH'],
      ['nope', 'x'],
    ]),
    'f',
    [
      [schema, a],
      [other, b],
    ],
  );
  assert.deepEqual(unknown, ['nope']);
  assert.equal(a.listenPort, 1);
  assert.equal(b.flushDiskType, 'SYNC_FLUSH');
});
