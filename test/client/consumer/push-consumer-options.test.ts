import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  effectiveMaxReconsumeTimes,
  resolvePushConsumerSettings,
} from '../../../src/client/consumer/push-consumer-options.js';
import { PushConsumer } from '../../../src/client/consumer/push-consumer.js';
import { ConsumeOrderlyStatus } from '../../../src/client/consumer/consume-orderly-service.js';

const base = { consumerGroup: 'CG', namesrvAddr: '127.0.0.1:9' };

describe('PushConsumer options', () => {
  test('upstream defaults; maxReconsumeTimes -1 means 16', () => {
    const s = resolvePushConsumerSettings(base);
    assert.equal(s.maxReconsumeTimes, -1);
    assert.equal(effectiveMaxReconsumeTimes(s), 16);
    assert.equal(s.suspendCurrentQueueTimeMillis, 1000);
    assert.equal(s.consumeThreadMax, 20);
    assert.equal(
      effectiveMaxReconsumeTimes(resolvePushConsumerSettings({ ...base, maxReconsumeTimes: 100 })),
      100,
    );
  });

  test('out-of-range values are refused', () => {
    assert.throws(() => resolvePushConsumerSettings({ ...base, maxReconsumeTimes: -2 }), /maxReconsumeTimes/);
    assert.throws(
      () => resolvePushConsumerSettings({ ...base, suspendCurrentQueueTimeMillis: 1.5 }),
      /suspendCurrentQueueTimeMillis/,
    );
  });

  test('the orderly listener variant marks the consumer orderly', () => {
    const c = new PushConsumer(base);
    assert.equal(c.consumeOrderly, false);
    c.registerMessageListenerOrderly(() => ConsumeOrderlyStatus.SUCCESS);
    assert.equal(c.consumeOrderly, true);
  });
});
