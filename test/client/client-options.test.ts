import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildClientId, parseNamesrvAddr, resolveClientConfig } from '../../src/client/client-options.js';
import { resolveProducerOptions } from '../../src/client/producer/producer-options.js';
import {
  resolveConsumerOptions,
  formatTimestamp,
  parseTimestamp,
} from '../../src/client/consumer/consumer-options.js';
import { NamesrvSelector } from '../../src/client/namesrv-selector.js';
import { ErrorCode } from '../../src/common/errors.js';

describe('client options', () => {
  test('client id is ip@instanceName, DEFAULT becomes the pid for producers and clustering consumers', () => {
    const base = { namesrvAddr: '127.0.0.1:9876', clientIP: '10.1.2.3' };
    assert.equal(buildClientId(resolveClientConfig(base, false)), '10.1.2.3@DEFAULT');
    assert.equal(buildClientId(resolveClientConfig(base, true)), `10.1.2.3@${process.pid}`);
    assert.equal(
      buildClientId(resolveClientConfig({ ...base, instanceName: 'x', unitName: 'u' }, true)),
      '10.1.2.3@x@u',
    );
    assert.equal(
      resolveConsumerOptions({ ...base, consumerGroup: 'G', messageModel: 'BROADCASTING' }).client
        .instanceName,
      'DEFAULT',
    );
  });

  test('upstream defaults', () => {
    const p = resolveProducerOptions({ namesrvAddr: 'a:1', producerGroup: 'PG' });
    assert.equal(p.sendMsgTimeout, 3000);
    assert.equal(p.retryTimesWhenSendFailed, 2);
    assert.equal(p.retryTimesWhenSendAsyncFailed, 2);
    assert.equal(p.compressMsgBodyOverHowmuch, 4096);
    assert.equal(p.maxMessageSize, 4 * 1024 * 1024);
    assert.equal(p.defaultTopicQueueNums, 4);
    assert.equal(p.createTopicKey, 'TBW102');
    assert.equal(p.retryAnotherBrokerWhenNotStoreOK, false);
    const c = resolveConsumerOptions({ namesrvAddr: 'a:1', consumerGroup: 'CG' });
    assert.equal(c.messageModel, 'CLUSTERING');
    assert.equal(c.consumeFromWhere, 'CONSUME_FROM_LAST_OFFSET');
    assert.equal(c.allocateMessageQueueStrategy.name, 'AVG');
  });

  test('bad options are refused with a reason', () => {
    assert.throws(
      () => resolveProducerOptions({ namesrvAddr: 'a:1', producerGroup: 'bad group' }),
      /illegal characters/,
    );
    assert.throws(
      () => resolveProducerOptions({ namesrvAddr: 'a:1', producerGroup: 'PG', sendMsgTimeout: 0 }),
      {
        code: ErrorCode.ILLEGAL_ARGUMENT,
      },
    );
    assert.throws(
      () => resolveConsumerOptions({ namesrvAddr: 'a:1', consumerGroup: 'DEFAULT_CONSUMER' }),
      /DEFAULT_CONSUMER/,
    );
    assert.throws(
      () => resolveConsumerOptions({ namesrvAddr: 'a:1', consumerGroup: 'G', consumeTimestamp: '2024' }),
      /yyyyMMddHHmmss/,
    );
    const saved = process.env.NAMESRV_ADDR;
    delete process.env.NAMESRV_ADDR;
    try {
      assert.throws(() => resolveClientConfig({}, false), { code: ErrorCode.CONFIG_INVALID });
    } finally {
      if (saved !== undefined) process.env.NAMESRV_ADDR = saved;
    }
  });

  test('NameServer lists and consume timestamps', () => {
    assert.deepEqual(parseNamesrvAddr(' a:1; b:2 ;'), ['a:1', 'b:2']);
    const t = new Date(2024, 0, 31, 23, 59, 58).getTime();
    assert.equal(formatTimestamp(t), '20240131235958');
    assert.equal(parseTimestamp('20240131235958'), t);
  });

  test('NameServer choice: one at a time, the next after a failure', () => {
    const s = new NamesrvSelector(['a', 'b', 'c']);
    const first = s.order();
    assert.equal(first.length, 3);
    assert.deepEqual(new Set(first), new Set(['a', 'b', 'c']));
    s.markFailed(first[0]!);
    assert.deepEqual(s.order(), [...first.slice(1), first[0]]);
    s.markFailed(first[0]!); // stale report: no effect
    assert.equal(s.order()[0], first[1]);
  });
});
