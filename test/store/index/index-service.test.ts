import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { msg, openStore, props, tempDir, testConfig } from '../helpers/store-helper.js';

test('the index file new keys go to exists once the store started, before the first put', async () => {
  const root = tempDir();
  const cfg = testConfig(root);
  const s = await openStore(cfg);
  try {
    const files = readdirSync(join(root, 'index'));
    assert.equal(files.length, 1, 'created at start');
    assert.match(files[0]!, /^\d{17}$/);
    const put = await s.putMessage(msg('Idx', 0, 'x', props({ KEYS: 'k1', UNIQ_KEY: 'U1' })));
    assert.equal(put.status, 'PUT_OK');
    const found = await s.queryMessage('Idx', 'k1', 32, 0, Date.now() + 60_000);
    assert.equal(found.messages.length, 1);
    assert.deepEqual(readdirSync(join(root, 'index')), files, 'the same file took the key');
  } finally {
    await s.shutdown();
  }
});
