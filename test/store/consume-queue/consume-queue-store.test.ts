import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConsumeQueueStore } from '../../../src/store/consume-queue/consume-queue-store.js';
import { nodeStoreFs } from '../../../src/store/io/store-fs.js';
import { getLogger } from '../../../src/common/logger.js';
import { readInt64 } from '../../../src/common/int64.js';
import { tempDir } from '../helpers/store-helper.js';

test('close writes the units put just before it, and nothing is written after it', async () => {
  const root = join(tempDir(), 'consumequeue');
  const cqs = new ConsumeQueueStore(nodeStoreFs, root, 20 * 1000, getLogger('test.cq'));
  await cqs.load();
  assert.ok(cqs.put('T', 0, 0, 100, 7, 0));
  assert.ok(cqs.put('T', 0, 100, 50, 7, 1));
  // The 10 ms write pass is still pending: close must write these two units itself.
  await cqs.close();
  const file = join(root, 'T', '0', '00000000000000000000');
  const bytes = readFileSync(file);
  assert.equal(readInt64(bytes, 20), 100);
  assert.equal(bytes.readInt32BE(28), 50);
  // A late unit (a dispatch racing shutdown) must not recreate files once the owner removed them.
  rmSync(root, { recursive: true, force: true });
  cqs.put('T', 0, 150, 10, 7, 2);
  await cqs.writeDirty();
  await sleep(30);
  assert.equal(existsSync(root), false);
});
