/**
 * Pulls served from the read-ahead blocks (src/store/read-cache.ts) after a restart, when the
 * writer's staging memory no longer holds the records: bytes as stored, records crossing block
 * grid lines and segment ends, a record larger than a block, and concurrent readers of different
 * queues sharing blocks instead of reading the log once each.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRecord } from '../../src/common/message/message-record.js';
import type { MessageStore } from '../../src/store/message-store.js';
import { msg, openStore, tempDir, testConfig } from './helpers/store-helper.js';
import { waitFor } from '../helpers/wait.js';

const QUEUES = 4;

/** Body of message i: its own size and bytes, so a record read from the wrong place shows. */
function body(i: number): Buffer {
  const b = Buffer.alloc(200 + ((i * 7919) % 2900));
  for (let k = 0; k < b.length; k++) b[k] = (i + k) & 0xff;
  return b;
}

/** Reads queue q front to back, 32 per pull; checks every body; returns the count. */
async function readQueue(
  s: MessageStore,
  topic: string,
  q: number,
  expected: number[],
  from = 0,
): Promise<number> {
  let offset = from;
  let n = 0;
  while (offset < s.getMaxOffsetInQueue(topic, q)) {
    const r = await s.getMessage('g', topic, q, offset, 32);
    assert.equal(r.status, 'FOUND', `queue ${q} at ${offset}`);
    for (const m of r.messages) {
      const d = decodeRecord(m, 0)!;
      assert.deepEqual(d.body, body(expected[Number(d.queueOffset)]!), `queue ${q} offset ${d.queueOffset}`);
      n++;
    }
    offset = r.nextBeginOffset;
  }
  return n;
}

test('after a restart, concurrent readers of four queues read the CommitLog about once', async () => {
  const root = tempDir();
  // 300,000-byte segments: neither a multiple of a block span nor of a page.
  const cfg = testConfig(root, { mappedFileSizeCommitLog: 300_000, writeBufferSize: 256 * 1024 });
  const byQueue: number[][] = Array.from({ length: QUEUES }, () => []);
  let s = await openStore(cfg);
  const count = 3000;
  for (let i = 0; i < count; i++) {
    // Runs of 5 per queue, as batches from a producer land.
    const q = Math.floor(i / 5) % QUEUES;
    byQueue[q]!.push(i);
    assert.equal((await s.putMessage(msg('Grid', q, body(i)))).status, 'PUT_OK');
  }
  const logBytes = s.getMaxPhyOffset();
  assert.ok(logBytes > 10 * 300_000, `several segments: ${logBytes}`);
  await s.shutdown();

  s = await openStore(cfg);
  try {
    const counts = await Promise.all(byQueue.map((ids, q) => readQueue(s, 'Grid', q, ids)));
    assert.deepEqual(
      counts,
      byQueue.map((ids) => ids.length),
    );
    // Every block read once: at most the log itself (reads of the four readers never overlap).
    assert.ok(s.pullReadBytes <= logBytes, `read ${s.pullReadBytes} of a ${logBytes}-byte log`);
    assert.ok(s.pullReadBytes >= logBytes * 0.9, `read ${s.pullReadBytes}: the pulls did go to the file`);
  } finally {
    await s.shutdown();
  }
});

test('a record larger than a block and records around it are served whole', async () => {
  const root = tempDir();
  const cfg = testConfig(root, { mappedFileSizeCommitLog: 4 * 1024 * 1024, writeBufferSize: 1024 * 1024 });
  let s = await openStore(cfg);
  const bodies = [
    Buffer.alloc(1000, 1),
    Buffer.alloc(700 * 1024, 2),
    Buffer.alloc(3000, 3),
    Buffer.alloc(600 * 1024, 4),
  ];
  for (const b of bodies) assert.equal((await s.putMessage(msg('Big', 0, b))).status, 'PUT_OK');
  await s.shutdown();
  s = await openStore(cfg);
  try {
    const got: Buffer[] = [];
    let offset = 0;
    while (offset < 4) {
      const r = await s.getMessage('g', 'Big', 0, offset, 32);
      assert.equal(r.status, 'FOUND');
      for (const m of r.messages) got.push(decodeRecord(m, 0)!.body);
      offset = r.nextBeginOffset;
    }
    assert.deepEqual(got, bodies);
  } finally {
    await s.shutdown();
  }
});

// A topic of many queues, each one's messages in runs (as a batching producer lays them down),
// read by one consumer per queue at once: the cache used to keep up to 3 blocks ahead of each
// reader in a cache of 18, so 32 readers evicted each other's blocks before using them (e2e
// consume of 32 queues: 2.9 GB read from the device for 230 MB served).
test('32 queues read at once after a restart: the CommitLog is read about once, not once per reader', async () => {
  const root = tempDir();
  const cfg = testConfig(root, { mappedFileSizeCommitLog: 4 * 1024 * 1024, writeBufferSize: 1024 * 1024 });
  const queues = 32;
  const byQueue: number[][] = Array.from({ length: queues }, () => []);
  let s = await openStore(cfg);
  let i = 0;
  for (let round = 0; round < 3; round++) {
    for (let q = 0; q < queues; q++) {
      const run = Array.from({ length: 128 }, () => i++);
      byQueue[q]!.push(...run);
      const rs = await Promise.all(run.map((k) => s.putMessage(msg('Many', q, body(k)))));
      assert.ok(rs.every((r) => r.status === 'PUT_OK'));
    }
  }
  const logBytes = s.getMaxPhyOffset();
  await s.shutdown();
  s = await openStore(cfg);
  try {
    // Readers a run or two apart, as consumers drift: more blocks in use at once than one round.
    const from = (q: number): number => (q % 3) * 128;
    const counts = await Promise.all(byQueue.map((ids, q) => readQueue(s, 'Many', q, ids, from(q))));
    assert.deepEqual(
      counts,
      byQueue.map((ids, q) => ids.length - from(q)),
    );
    assert.ok(s.pullReadBytes <= logBytes * 1.5, `read ${s.pullReadBytes} of a ${logBytes}-byte log`);
  } finally {
    await s.shutdown();
  }
});

test('a reader served from read-ahead blocks keeps the window in front of it: one wait, at the start', async () => {
  const root = tempDir();
  const cfg = testConfig(root, { mappedFileSizeCommitLog: 1024 * 1024, writeBufferSize: 256 * 1024 });
  let s = await openStore(cfg);
  const count = 6000;
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    ids.push(i);
    assert.equal((await s.putMessage(msg('Ahead', 0, body(i)))).status, 'PUT_OK');
  }
  const logBytes = s.getMaxPhyOffset();
  await s.shutdown();
  s = await openStore(cfg);
  try {
    let offset = 0;
    let n = 0;
    while (offset < s.getMaxOffsetInQueue('Ahead', 0)) {
      const r = await s.getMessage('g', 'Ahead', 0, offset, 32);
      assert.equal(r.status, 'FOUND', `at ${offset}`);
      for (const m of r.messages) {
        const d = decodeRecord(m, 0)!;
        assert.deepEqual(d.body, body(ids[Number(d.queueOffset)]!));
        n++;
      }
      offset = r.nextBeginOffset;
      // A consumer slower than the device: what was read ahead is there before the next pull.
      await waitFor(() => s.pullReadsUnderWay === 0, 'the reads ahead');
    }
    assert.equal(n, count);
    assert.ok(s.pullReadBytes >= logBytes * 0.9, `read ${s.pullReadBytes} of ${logBytes}: from the files`);
    // Read ahead only on misses, the reader waited again each time it ran past the window.
    assert.equal(s.pullCacheMisses, 1, `${s.pullCacheMisses} pulls waited for a read`);
  } finally {
    await s.shutdown();
  }
});
