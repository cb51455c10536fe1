import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  IndexFile,
  INDEX_ENTRY_SIZE,
  INDEX_HEADER_SIZE,
  indexKeyHash,
} from '../../../src/store/index/index-file.js';
import { nodeStoreFs } from '../../../src/store/io/store-fs.js';
import { readInt64 } from '../../../src/common/int64.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempFile(): string {
  const d = mkdtempSync(join(tmpdir(), 'rmq-index-'));
  dirs.push(d);
  return join(d, '20261121000000000');
}

const SLOTS = 2048; // two slot pages
const ENTRIES = 64;

test('layout on disk: header, big-endian slots, entries chained per slot', async () => {
  const path = tempFile();
  const f = await IndexFile.create(nodeStoreFs, path, SLOTS, ENTRIES);
  const t0 = 1_700_000_000_000;
  const a = indexKeyHash('T#a');
  // Two keys in one slot (same hash), one elsewhere.
  assert.ok(f.putKey(a, 100, t0));
  assert.ok(f.putKey(indexKeyHash('T#b'), 200, t0 + 1500));
  assert.ok(f.putKey(a, 300, t0 + 3000));
  await f.write(true);
  const raw = readFileSync(path);
  assert.equal(raw.length, INDEX_HEADER_SIZE + SLOTS * 4 + ENTRIES * INDEX_ENTRY_SIZE);
  // Header: upstream sets begin* from the first entry (indexCount <= 1 then).
  assert.equal(readInt64(raw, 0), t0);
  assert.equal(readInt64(raw, 8), t0 + 3000);
  assert.equal(readInt64(raw, 16), 100);
  assert.equal(readInt64(raw, 24), 300);
  assert.equal(raw.readInt32BE(32), 2, 'hashSlotCount');
  assert.equal(raw.readInt32BE(36), 4, 'indexCount: next entry number');
  // The slot of `a` holds its newest entry (3); entry 3 chains back to entry 1.
  assert.equal(raw.readInt32BE(INDEX_HEADER_SIZE + (a % SLOTS) * 4), 3);
  const entry = (n: number): Buffer => {
    const at = INDEX_HEADER_SIZE + SLOTS * 4 + n * INDEX_ENTRY_SIZE;
    return raw.subarray(at, at + INDEX_ENTRY_SIZE);
  };
  assert.equal(entry(3).readInt32BE(0), a);
  assert.equal(readInt64(entry(3), 4), 300);
  assert.equal(entry(3).readInt32BE(12), 3, 'timeDiff in seconds');
  assert.equal(entry(3).readInt32BE(16), 1, 'prevIndex');
  assert.equal(entry(2).readInt32BE(12), 1);
  assert.equal(entry(1).readInt32BE(16), 0);

  const out: number[] = [];
  await f.selectPhyOffsets('T#a', 32, t0, t0 + 10_000, out);
  assert.deepEqual(out, [300, 100]);
  await f.close();
});

test('reopened after a crash: slots pointing past the header count are walked back', async () => {
  const path = tempFile();
  const f = await IndexFile.create(nodeStoreFs, path, SLOTS, ENTRIES);
  const t0 = 1_700_000_000_000;
  const a = indexKeyHash('T#a');
  f.putKey(a, 100, t0);
  f.putKey(a, 200, t0);
  await f.write(true);
  await f.close();
  // As a crash between writing entries/slots and the header would leave it: entry 3 and the
  // slot pointing at it are on disk, the header still counts entries 1-2 (indexCount 3).
  const fd = openSync(path, 'r+');
  const e = Buffer.alloc(INDEX_ENTRY_SIZE);
  e.writeInt32BE(a, 0);
  e.writeInt32BE(0, 4);
  e.writeInt32BE(300, 8);
  e.writeInt32BE(0, 12);
  e.writeInt32BE(2, 16);
  writeSync(fd, e, 0, e.length, INDEX_HEADER_SIZE + SLOTS * 4 + 3 * INDEX_ENTRY_SIZE);
  const s = Buffer.alloc(4);
  s.writeInt32BE(3, 0);
  writeSync(fd, s, 0, 4, INDEX_HEADER_SIZE + (a % SLOTS) * 4);
  // A garbage slot elsewhere (negative) is cleared too.
  s.writeInt32BE(-5, 0);
  writeSync(fd, s, 0, 4, INDEX_HEADER_SIZE + ((a + 7) % SLOTS) * 4);
  closeSync(fd);

  const g = await IndexFile.open(nodeStoreFs, path, SLOTS, ENTRIES, true);
  assert.equal(g.header.indexCount, 3);
  const out: number[] = [];
  await g.selectPhyOffsets('T#a', 32, 0, Number.MAX_SAFE_INTEGER, out);
  assert.deepEqual(out, [200, 100], 'the uncounted entry 3 is not served');
  // New keys continue from entry 3 and chain onto the repaired slot; written, then read raw.
  g.putKey(a, 400, t0);
  await g.write(true);
  await g.close();
  const raw = readFileSync(path);
  assert.equal(raw.readInt32BE(INDEX_HEADER_SIZE + (a % SLOTS) * 4), 3);
  assert.equal(raw.readInt32BE(INDEX_HEADER_SIZE + ((a + 7) % SLOTS) * 4), 0);
  const third = INDEX_HEADER_SIZE + SLOTS * 4 + 3 * INDEX_ENTRY_SIZE;
  assert.equal(readInt64(raw, third + 4), 400);
  assert.equal(raw.readInt32BE(third + 16), 2);
  const h = await IndexFile.open(nodeStoreFs, path, SLOTS, ENTRIES, false);
  const again: number[] = [];
  await h.selectPhyOffsets('T#a', 32, 0, Number.MAX_SAFE_INTEGER, again);
  assert.deepEqual(again, [400, 200, 100]);
  await h.close();
});

test('writeEntries hands entries over but leaves slots and header as the last full write', async () => {
  const path = tempFile();
  const f = await IndexFile.create(nodeStoreFs, path, SLOTS, ENTRIES);
  const t0 = 1_700_000_000_000;
  const a = indexKeyHash('T#a');
  f.putKey(a, 100, t0);
  await f.write(false);
  f.putKey(a, 200, t0 + 1000);
  f.putKey(indexKeyHash('T#b'), 300, t0 + 2000);
  await f.writeEntries();
  assert.equal(f.pendingBytes, 0, 'nothing pending after the entries went out');
  // Readers still see every key: the newest file answers from its in-memory slots.
  const live: number[] = [];
  await f.selectPhyOffsets('T#a', 32, 0, Number.MAX_SAFE_INTEGER, live);
  assert.deepEqual(live, [200, 100]);
  const raw = readFileSync(path);
  assert.equal(raw.readInt32BE(36), 2, 'header count still that of the full write');
  assert.equal(readInt64(raw, 24), 100, 'endPhyOffset too: a restart re-dispatches from there');
  assert.equal(raw.readInt32BE(INDEX_HEADER_SIZE + (a % SLOTS) * 4), 1, 'slot not rewritten');
  const second = INDEX_HEADER_SIZE + SLOTS * 4 + 2 * INDEX_ENTRY_SIZE;
  assert.equal(readInt64(raw, second + 4), 200, 'entry 2 is on disk');
  // A crash now: the reopened file serves what its header counts and appends over entry 2.
  await f.close();
  const g = await IndexFile.open(nodeStoreFs, path, SLOTS, ENTRIES, true);
  assert.equal(g.header.indexCount, 2);
  g.putKey(a, 250, t0 + 1000);
  await g.write(true);
  const out: number[] = [];
  await g.selectPhyOffsets('T#a', 32, 0, Number.MAX_SAFE_INTEGER, out);
  assert.deepEqual(out, [250, 100]);
  await g.close();
});

test('a full file refuses more keys; a short file reads as empty slots', async () => {
  const path = tempFile();
  const f = await IndexFile.create(nodeStoreFs, path, SLOTS, 4);
  for (let i = 1; i < 4; i++) assert.ok(f.putKey(i, i, 1));
  assert.equal(f.isFull, true);
  assert.equal(f.putKey(9, 9, 1), false);
  await f.close();
  // Cut inside the slot table: the missing part reads as zeros, nothing throws.
  writeFileSync(path, readFileSync(path).subarray(0, INDEX_HEADER_SIZE + 100));
  const g = await IndexFile.open(nodeStoreFs, path, SLOTS, 4, true);
  const out: number[] = [];
  await g.selectPhyOffsets('x', 8, 0, Number.MAX_SAFE_INTEGER, out);
  assert.deepEqual(out, []);
  await g.close();
});
