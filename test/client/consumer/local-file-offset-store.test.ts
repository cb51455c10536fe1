import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import {
  LocalFileOffsetStore,
  localOffsetFile,
} from '../../../src/client/consumer/local-file-offset-store.js';
import { OFFSET_NOT_FOUND } from '../../../src/client/consumer/offset-store.js';
import { getLogger } from '../../../src/common/logger.js';
import { tempDir } from '../../helpers/temp-dir.js';

const log = getLogger('test.offsets');

describe('LocalFileOffsetStore', () => {
  const q0 = { topic: 'T', brokerName: 'b', queueId: 0 };
  const q1 = { topic: 'T', brokerName: 'b', queueId: 1 };

  test('persists the owned queues in upstream format and loads them back', async () => {
    const path = localOffsetFile(tempDir(), '10.0.0.1@DEFAULT', 'G');
    assert.match(path, /10\.0\.0\.1@DEFAULT\/G\/offsets\.json$/);
    const s = new LocalFileOffsetStore(path, log);
    await s.load();
    assert.equal(await s.readOffsetFromStore(q0), OFFSET_NOT_FOUND);
    s.updateOffset(q0, 10, false);
    s.updateOffset(q0, 5, true);
    assert.equal(s.readOffsetFromMemory(q0), 10, 'increaseOnly keeps the higher offset');
    s.updateOffset(q1, 3, false);
    await s.persistAll([q0, q1]);
    const text = readFileSync(path, 'utf8');
    assert.match(text, /\{"brokerName":"b","queueId":0,"topic":"T"\}:10/);

    const again = new LocalFileOffsetStore(path, log);
    await again.load();
    assert.equal(again.readOffsetFromMemory(q0), 10);
    assert.equal(await again.readOffsetFromStore(q1), 3);
    assert.deepEqual(
      again
        .offsetsOf('T')
        .map(([q, o]) => [q.queueId, o])
        .sort(),
      [
        [0, 10],
        [1, 3],
      ],
    );
  });

  test('an unreadable file falls back to the .bak copy, then to nothing', async () => {
    const path = localOffsetFile(tempDir(), 'c', 'G');
    const s = new LocalFileOffsetStore(path, log);
    s.updateOffset(q0, 1, false);
    await s.persistAll([q0]);
    s.updateOffset(q0, 2, false);
    await s.persistAll([q0]);
    writeFileSync(path, '{not json');
    const back = new LocalFileOffsetStore(path, log);
    await back.load();
    assert.equal(back.readOffsetFromMemory(q0), 1, 'the previous generation');
    writeFileSync(`${path}.bak`, '{not json');
    const none = new LocalFileOffsetStore(path, log);
    await none.load();
    assert.equal(none.readOffsetFromMemory(q0), OFFSET_NOT_FOUND);
  });
});
