import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { nodeStoreFs, type StoreFs } from '../../src/store/io/store-fs.js';
import { msg, openStore, tempDir, testConfig } from './helpers/store-helper.js';

test('a shutdown whose I/O fails still closes everything: lock released, abort kept, data recovered', async () => {
  const root = tempDir();
  let failing = false;
  const fs: StoreFs = {
    ...nodeStoreFs,
    fdatasync: (fd) => (failing ? Promise.reject(new Error('EIO: injected')) : nodeStoreFs.fdatasync(fd)),
    write: (fd, buf, off, len, pos) =>
      failing ? Promise.reject(new Error('EIO: injected write')) : nodeStoreFs.write(fd, buf, off, len, pos),
    writeFileSync: (path, data) => {
      if (failing) throw new Error(`EIO: injected writeFileSync ${path}`);
      nodeStoreFs.writeFileSync(path, data);
    },
    close: (fd) => (failing ? Promise.reject(new Error('EIO: injected close')) : nodeStoreFs.close(fd)),
  };
  const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const timersBefore = timers();
  const s = await openStore(testConfig(root), { fs });
  for (let i = 0; i < 20; i++) assert.equal((await s.putMessage(msg('Sd', 0, `m${i}`))).status, 'PUT_OK');
  failing = true;
  // The failures are logged and the shutdown goes on to the end.
  const err = await s.shutdown().then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err !== undefined) assert.match(String(err), /EIO: injected/);
  // Nothing of the store is left running, and the lock is gone.
  assert.ok(timers() <= timersBefore, `timers left: ${timers() - timersBefore}`);
  assert.ok(!existsSync(join(root, 'lock')));
  // Not a clean shutdown: the abort file stays, so the next start checks the log.
  assert.ok(existsSync(join(root, 'abort')));
  failing = false;
  const again = await openStore(testConfig(root));
  assert.equal(again.getMaxOffsetInQueue('Sd', 0), 20);
  const r = await again.getMessage('g', 'Sd', 0, 0, 32);
  assert.equal(r.messages.length, 20);
  await again.shutdown();
});
