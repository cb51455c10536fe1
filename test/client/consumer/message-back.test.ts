import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { retryCopy } from '../../../src/client/consumer/message-back.js';
import type { MessageExt } from '../../../src/client/message/message-ext.js';

function failed(reconsumeTimes: number, props: Record<string, string> = {}): MessageExt {
  const properties = new Map(Object.entries({ TAGS: 'TagA', UNIQ_KEY: 'U1', KEYS: 'k', ...props }));
  return {
    topic: 'Orders',
    body: Buffer.from('payload'),
    flag: 3,
    reconsumeTimes,
    properties,
    msgId: properties.get('UNIQ_KEY') ?? 'OFFSET-ID',
  } as unknown as MessageExt;
}

describe('retryCopy (the fallback when CONSUMER_SEND_MSG_BACK fails)', () => {
  test('goes to %RETRY%<group> with the original topic, id and counters, delayed by 3 + reconsumeTimes', () => {
    const copy = retryCopy(failed(2, { TRAN_MSG: 'true' }), 'CG', 0, 16);
    assert.equal(copy.topic, '%RETRY%CG');
    assert.equal(copy.body.toString(), 'payload');
    assert.equal(copy.flag, 3);
    const p = copy.properties;
    assert.equal(p.get('RETRY_TOPIC'), 'Orders');
    assert.equal(p.get('ORIGIN_MESSAGE_ID'), 'U1');
    assert.equal(p.get('UNIQ_KEY'), 'U1', 'the msgId stays');
    assert.equal(p.get('TAGS'), 'TagA');
    assert.equal(p.get('RECONSUME_TIME'), '3');
    assert.equal(p.get('MAX_RECONSUME_TIMES'), '16');
    assert.equal(p.get('DELAY'), '5');
    assert.equal(p.has('TRAN_MSG'), false);
  });

  test('keeps an earlier ORIGIN_MESSAGE_ID and honours a delay level the listener chose', () => {
    const copy = retryCopy(failed(0, { ORIGIN_MESSAGE_ID: 'FIRST' }), 'CG', 7, 3);
    assert.equal(copy.properties.get('ORIGIN_MESSAGE_ID'), 'FIRST');
    assert.equal(copy.properties.get('DELAY'), '7');
    assert.equal(copy.properties.get('RECONSUME_TIME'), '1');
  });

  test('a negative level asks for the DLQ: counters at the limit, no delay', () => {
    const early = retryCopy(failed(1, { DELAY: '4' }), 'CG', -1, 16);
    assert.equal(early.properties.get('RECONSUME_TIME'), '16');
    assert.equal(early.properties.has('DELAY'), false);
    const orderly = retryCopy(failed(20), 'CG', -1, 16);
    assert.equal(orderly.properties.get('RECONSUME_TIME'), '20', 'the local count when already past it');
  });
});
