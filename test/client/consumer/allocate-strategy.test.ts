import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  allocateMessageQueueAveragely,
  allocateMessageQueueAveragelyByCircle,
  type AllocateMessageQueueStrategy,
} from '../../../src/client/consumer/allocate-strategy.js';
import { mqKey, type MessageQueue } from '../../../src/client/message/message-queue.js';

function queues(n: number, brokers = ['broker-a']): MessageQueue[] {
  const out: MessageQueue[] = [];
  for (const brokerName of brokers)
    for (let i = 0; i < n; i++) out.push({ topic: 'T', brokerName, queueId: i });
  return out;
}

const ids = (mqs: MessageQueue[]): string[] => mqs.map((q) => `${q.brokerName}:${q.queueId}`);

describe('AllocateMessageQueueAveragely', () => {
  const avg = allocateMessageQueueAveragely;

  test('contiguous blocks, larger ones first (8 queues, 3 clients -> 3, 3, 2)', () => {
    const mqs = queues(8);
    const cids = ['c1', 'c2', 'c3'];
    assert.deepEqual(ids(avg.allocate('G', 'c1', mqs, cids)), ['broker-a:0', 'broker-a:1', 'broker-a:2']);
    assert.deepEqual(ids(avg.allocate('G', 'c2', mqs, cids)), ['broker-a:3', 'broker-a:4', 'broker-a:5']);
    assert.deepEqual(ids(avg.allocate('G', 'c3', mqs, cids)), ['broker-a:6', 'broker-a:7']);
  });

  test('more clients than queues: one each, the rest get nothing', () => {
    const mqs = queues(2);
    const cids = ['a', 'b', 'c'];
    assert.deepEqual(ids(avg.allocate('G', 'a', mqs, cids)), ['broker-a:0']);
    assert.deepEqual(ids(avg.allocate('G', 'b', mqs, cids)), ['broker-a:1']);
    assert.deepEqual(avg.allocate('G', 'c', mqs, cids), []);
  });

  test('a client not in the list gets nothing', () => {
    assert.deepEqual(avg.allocate('G', 'x', queues(4), ['a', 'b']), []);
  });

  test('across brokers in sorted order', () => {
    const mqs = queues(2, ['broker-a', 'broker-b']);
    assert.deepEqual(ids(avg.allocate('G', 'a', mqs, ['a', 'b'])), ['broker-a:0', 'broker-a:1']);
    assert.deepEqual(ids(avg.allocate('G', 'b', mqs, ['a', 'b'])), ['broker-b:0', 'broker-b:1']);
  });

  test('AVG_BY_CIRCLE deals queues round robin', () => {
    const mqs = queues(5);
    assert.deepEqual(ids(allocateMessageQueueAveragelyByCircle.allocate('G', 'b', mqs, ['a', 'b'])), [
      'broker-a:1',
      'broker-a:3',
    ]);
  });

  for (const strategy of [
    allocateMessageQueueAveragely,
    allocateMessageQueueAveragelyByCircle,
  ] as AllocateMessageQueueStrategy[]) {
    test(`${strategy.name}: shares are disjoint, cover every queue and differ by at most one`, () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 1, max: 20 }), (n, c) => {
          const mqs = queues(n);
          const cids = Array.from({ length: c }, (_, i) => `client-${String(i).padStart(2, '0')}`);
          const shares = cids.map((cid) => strategy.allocate('G', cid, mqs, cids));
          const all = shares.flat().map(mqKey);
          assert.equal(all.length, n);
          assert.equal(new Set(all).size, n);
          const sizes = shares.map((s) => s.length);
          assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1);
        }),
      );
    });
  }
});
