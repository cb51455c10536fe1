import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryOffsetTable, OFFSET_NOT_FOUND } from '../../../src/client/consumer/offset-store.js';

class Table extends MemoryOffsetTable {}

test('offsets in memory: updates, increase-only, removal and re-adding through the same queue object', () => {
  const t = new Table();
  const q0 = { topic: 'T', brokerName: 'b', queueId: 0 };
  const q1 = { topic: 'T', brokerName: 'b', queueId: 1 };
  t.updateOffset(q0, 5, true);
  t.updateOffset(q0, 7, true);
  t.updateOffset(q0, 6, true);
  assert.equal(t.readOffsetFromMemory(q0), 7, 'increase-only ignores a lower offset');
  t.updateOffset(q0, 3, false);
  assert.equal(t.readOffsetFromMemory(q0), 3);
  // An equal queue given as another object finds the same slot.
  t.updateOffset({ ...q0 }, 9, true);
  assert.equal(t.readOffsetFromMemory(q0), 9);
  t.updateOffset(q1, 1, true);
  assert.equal(t.readOffsetFromMemory(q0), 9); // q0 is now the queue looked up last
  t.removeOffset(q0);
  assert.equal(
    t.readOffsetFromMemory(q0),
    OFFSET_NOT_FOUND,
    'a removed queue is gone even for the object used last',
  );
  t.updateOffset(q0, 2, true);
  assert.equal(t.readOffsetFromMemory(q0), 2, 'and comes back as a fresh slot');
  assert.deepEqual(t.offsetsOf('T'), [
    [q1, 1],
    [q0, 2],
  ]);
});
