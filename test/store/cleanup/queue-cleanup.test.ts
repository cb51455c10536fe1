import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { MessageStore } from '../../../src/store/message-store.js';
import { msg, openStore, props, tempDir, testConfig } from '../helpers/store-helper.js';

const BODY = Buffer.alloc(3000, 1);
const SEGMENT = 64 * 1024;

async function put(s: MessageStore, topic: string, queueId: number, n: number, p = ''): Promise<void> {
  for (let i = 0; i < n; i++) {
    const r = await s.putMessage(msg(topic, queueId, BODY, p));
    assert.equal(r.status, 'PUT_OK');
  }
}

const SCHEDULED = props({ DELAY: '3', REAL_TOPIC: 'Later', REAL_QID: '0' });

test('cleanExpiredConsumerQueue destroys queues wholly below the CommitLog minimum, corrects the others', async () => {
  const root = tempDir();
  const cfg = testConfig(root);
  let s = await openStore(cfg);
  await put(s, 'SCHEDULE_TOPIC_XXXX', 2, 1, SCHEDULED);
  for (let i = 0; i < 24; i++) await put(s, 'Old', i % 2, 1);
  await put(s, 'New', 0, 50);
  await s.reput.caughtUp();
  const oldMax = s.getMaxOffsetInQueue('Old', 0);
  assert.equal(oldMax, 12);
  assert.ok(s.getMaxPhyOffset() > 3 * SEGMENT, 'four segments written');
  // Drop the first two segments the way retention does, but without its queue pass, so only the
  // cleanup under test touches the queues.
  await s.commitLog.files.deleteFirst();
  await s.commitLog.files.deleteFirst();
  const min = s.getMinPhyOffset();
  assert.equal(min, 2 * SEGMENT);
  assert.equal(s.getMinOffsetInQueue('New', 0), 0, 'not corrected yet');

  const r = await s.cleanExpiredConsumerQueue();
  assert.deepEqual(r.destroyed.sort(), ['Old/0', 'Old/1']);
  assert.deepEqual(r.topicsRemoved, ['Old']);
  assert.equal(existsSync(join(root, 'consumequeue', 'Old')), false, 'topic directory removed');
  assert.equal(s.consumeQueues.find('Old', 0), undefined);
  assert.equal(s.getMaxOffsetInQueue('Old', 0), 0);
  // SCHEDULE_TOPIC_XXXX is never dropped, even below the minimum.
  assert.ok(s.consumeQueues.find('SCHEDULE_TOPIC_XXXX', 2));
  // New: its minimum is the first unit still in the CommitLog.
  const newMin = s.getMinOffsetInQueue('New', 0);
  assert.ok(newMin > 0, `New min ${newMin}`);
  const first = await s.getUnit('New', 0, newMin);
  assert.ok(first && first[0] >= min, 'first unit at or past the CommitLog minimum');
  const before = await s.getUnit('New', 0, newMin - 1);
  assert.equal((await s.getMessage('g', 'New', 0, newMin - 1, 1)).status, 'OFFSET_TOO_SMALL');
  assert.equal(before, undefined);
  assert.equal((await s.getMessage('g', 'New', 0, newMin, 32)).status, 'FOUND');

  // A later message of a destroyed queue continues its numbering and is readable.
  const again = await s.putMessage(msg('Old', 0, 'after cleanup'));
  assert.equal(again.appendResult?.logicsOffset, oldMax);
  await s.reput.caughtUp();
  const got = await s.getMessage('g', 'Old', 0, oldMax, 32);
  assert.equal(got.status, 'FOUND');
  assert.equal(got.messages.length, 1);

  // Running it again finds nothing more to destroy; a restart loads what is left.
  assert.deepEqual((await s.cleanExpiredConsumerQueue()).destroyed, []);
  await s.shutdown();
  s = await openStore(cfg);
  assert.deepEqual(readdirSync(join(root, 'consumequeue', 'Old')), ['0']);
  assert.equal(s.consumeQueues.find('Old', 1), undefined);
  assert.equal((await s.getMessage('g', 'New', 0, newMin, 32)).status, 'FOUND');
  await s.shutdown();
});

test('after a retention pass, cleanExpiredConsumerQueue removes the queue files retention had to keep', async () => {
  const root = tempDir();
  const s = await openStore(testConfig(root, { fileReservedTime: 0, deleteCommitLogFilesInterval: 0 }));
  await put(s, 'Gone', 0, 45);
  await put(s, 'Kept', 0, 30);
  await s.reput.caughtUp();
  await s.consumeQueues.writeDirty();
  s.executeDeleteFilesManually();
  await s.cleanNow();
  assert.equal(readdirSync(join(root, 'commitlog')).length, 1, 'retention left the newest segment');
  // Retention never deletes a queue's last file, so Gone's directory is still there.
  assert.equal(readdirSync(s.consumeQueueDir('Gone', 0)).length, 1);
  const r = await s.cleanExpiredConsumerQueue();
  assert.deepEqual(r.destroyed, ['Gone/0']);
  assert.equal(existsSync(join(root, 'consumequeue', 'Gone')), false);
  assert.ok(existsSync(s.consumeQueueDir('Kept', 0)));
  await s.shutdown();
});

test('a queue without any unit yet is kept', async () => {
  const s = await openStore(testConfig(tempDir()));
  s.consumeQueues.findOrCreate('Fresh', 0);
  const r = await s.cleanExpiredConsumerQueue();
  assert.deepEqual(r.destroyed, []);
  assert.ok(s.consumeQueues.find('Fresh', 0));
  await s.shutdown();
});

test('cleanUnusedTopic deletes the queues of topics not configured, keeping broker state', async () => {
  const root = tempDir();
  const s = await openStore(testConfig(root));
  const kept = [
    'Configured',
    'SCHEDULE_TOPIC_XXXX',
    'RMQ_SYS_TRANS_HALF_TOPIC',
    'RMQ_SYS_TRANS_OP_HALF_TOPIC',
    '%LMQ%light',
  ];
  for (const t of kept) await put(s, t, 0, 1, t === 'SCHEDULE_TOPIC_XXXX' ? SCHEDULED : '');
  await put(s, 'Dropped', 0, 3);
  await put(s, 'Dropped', 1, 1);
  await s.reput.caughtUp();
  await s.consumeQueues.writeDirty();
  assert.ok(existsSync(join(root, 'consumequeue', 'Dropped')));

  const removed = await s.cleanUnusedTopic(new Set(['Configured', 'NeverStored']));
  assert.deepEqual(removed, ['Dropped']);
  assert.equal(existsSync(join(root, 'consumequeue', 'Dropped')), false);
  assert.equal(s.getMaxOffsetInQueue('Dropped', 0), 0);
  for (const t of kept) assert.ok(existsSync(s.consumeQueueDir(t, 0)), `${t} kept`);
  // The topic is gone as a whole: a new message starts its queue again at 0.
  const again = await s.putMessage(msg('Dropped', 0, 'recreated'));
  assert.equal(again.appendResult?.logicsOffset, 0);
  assert.deepEqual(await s.cleanUnusedTopic(new Set(['Configured', 'Dropped'])), []);
  await s.shutdown();
});
