import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ProcessQueue } from '../../../src/client/consumer/process-queue.js';
import type { MessageExt } from '../../../src/client/message/message-ext.js';

/** Just what ProcessQueue reads of a message. */
function msg(offset: number, size = 10): MessageExt {
  return { queueOffset: offset, body: Buffer.alloc(size) } as unknown as MessageExt;
}

describe('ProcessQueue offset tracking', () => {
  test('the commit offset is the lowest unfinished message, or one past the last when all are done', () => {
    const pq = new ProcessQueue();
    const m = [5, 6, 7, 8].map((o) => msg(o));
    pq.putMessages(m);
    assert.equal(pq.msgCount, 4);
    assert.equal(pq.msgSize, 40);
    assert.equal(pq.maxSpan, 3);
    assert.equal(pq.removeMessages([m[2]!]), 5, '7 done, 5 still open');
    assert.equal(pq.removeMessages([m[0]!]), 6);
    assert.equal(pq.removeMessages([m[1]!]), 8, '5, 6, 7 done');
    assert.equal(pq.removeMessages([m[3]!]), 9, 'all done: one past the highest');
    assert.equal(pq.msgCount, 0);
    assert.equal(pq.msgSize, 0);
    assert.equal(pq.removeMessages([m[3]!]), -1, 'nothing held');
  });

  test('gaps from tag filtering are skipped', () => {
    const pq = new ProcessQueue();
    pq.putMessages([msg(1), msg(10), msg(20)]);
    assert.equal(pq.removeMessages([msg(1)]), 10);
    assert.equal(pq.removeMessages([msg(20)]), 10);
    assert.equal(pq.removeMessages([msg(10)]), 21);
  });

  test('long runs stay correct across compaction', () => {
    const pq = new ProcessQueue();
    const all = Array.from({ length: 5000 }, (_, i) => msg(i));
    pq.putMessages(all.slice(0, 3000));
    for (let i = 0; i < 2500; i++) assert.equal(pq.removeMessages([all[i]!]), i + 1);
    pq.putMessages(all.slice(3000));
    assert.equal(pq.msgCount, 2500);
    assert.equal(pq.removeMessages(all.slice(2501)), 2500, 'only 2500 left open');
    assert.equal(pq.removeMessages([all[2500]!]), 5000);
  });

  test('duplicates are ignored; clear forgets everything', () => {
    const pq = new ProcessQueue();
    pq.putMessages([msg(1), msg(2)]);
    pq.putMessages([msg(2), msg(3)]);
    assert.equal(pq.msgCount, 3);
    pq.clear();
    assert.equal(pq.msgCount, 0);
    assert.equal(pq.minOffset, undefined);
  });

  test('any completion order commits exactly the finished prefix (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 300 }),
        fc.integer(),
        fc.integer({ min: 1, max: 8 }),
        (offsets, seed, batchSize) => {
          const sorted = [...offsets].sort((a, b) => a - b);
          const pq = new ProcessQueue();
          // Pulled in batches, in offset order, as one pull loop does.
          for (let i = 0; i < sorted.length; i += 32)
            pq.putMessages(sorted.slice(i, i + 32).map((o) => msg(o)));
          // Finished in a pseudo-random order, a few at a time.
          const order = [...sorted];
          let s = seed;
          for (let i = order.length - 1; i > 0; i--) {
            s = (s * 1103515245 + 12345) | 0;
            const j = Math.abs(s) % (i + 1);
            [order[i], order[j]] = [order[j]!, order[i]!];
          }
          const done = new Set<number>();
          for (let i = 0; i < order.length; i += batchSize) {
            const batch = order.slice(i, i + batchSize);
            batch.forEach((o) => done.add(o));
            const commit = pq.removeMessages(batch.map((o) => msg(o)));
            const open = sorted.filter((o) => !done.has(o));
            assert.equal(commit, open.length > 0 ? open[0] : sorted[sorted.length - 1]! + 1);
            assert.equal(pq.msgCount, open.length);
          }
        },
      ),
    );
  });
});

describe('ProcessQueue orderly consumption', () => {
  test('takeMessages hands out the lowest untaken messages; put back, they come again in order', () => {
    const pq = new ProcessQueue();
    pq.putMessages([1, 2, 3, 4, 5].map((o) => msg(o)));
    const first = pq.takeMessages(2);
    assert.deepEqual(
      first.map((m) => m.queueOffset),
      [1, 2],
    );
    assert.deepEqual(
      pq.takeMessages(2).map((m) => m.queueOffset),
      [3, 4],
      'taken ones are skipped',
    );
    pq.makeMessagesToConsumeAgain(first);
    assert.equal(pq.msgCount, 5, 'taken messages still count until finished');
    assert.deepEqual(
      pq.takeMessages(10).map((m) => m.queueOffset),
      [1, 2, 5],
    );
  });

  test('finishing a taken batch commits past it; finished messages are not taken again', () => {
    const pq = new ProcessQueue();
    const all = [10, 11, 12].map((o) => msg(o));
    pq.putMessages(all);
    const batch = pq.takeMessages(2);
    assert.equal(pq.removeMessages(batch), 12);
    assert.deepEqual(
      pq.takeMessages(5).map((m) => m.queueOffset),
      [12],
    );
    assert.equal(pq.removeMessages([all[2]!]), 13);
    assert.deepEqual(pq.takeMessages(5), []);
  });

  test('a lock not renewed for 30 s is expired', () => {
    const pq = new ProcessQueue();
    const now = Date.now();
    pq.lastLockTimestamp = now;
    assert.equal(pq.isLockExpired(now + 30_000), false);
    assert.equal(pq.isLockExpired(now + 30_001), true);
  });
  test('a consumed message is not kept once the head passed it', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const pq = new ProcessQueue();
    let refs: WeakRef<MessageExt>[] = [];
    (() => {
      const m = [0, 1, 2, 3].map((o) => msg(o, 1024));
      refs = m.map((x) => new WeakRef(x));
      pq.putMessages(m);
      assert.equal(pq.removeMessages([m[0]!, m[1]!, m[2]!]), 3);
    })();
    await new Promise((r) => setImmediate(r));
    gc();
    assert.deepEqual(
      refs.map((r) => r.deref() !== undefined),
      [false, false, false, true],
      'only the unfinished message is still referenced',
    );
  });
});
