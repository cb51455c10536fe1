import { test } from 'node:test';
import { performance } from 'node:perf_hooks';
import assert from 'node:assert/strict';
import { decodeRecord } from '../../../src/common/message/message-record.js';
import type { MessageStore } from '../../../src/store/message-store.js';
import { crashBody as body } from '../helpers/crash-data.js';
import { msg, openStore, tempDir, testConfig } from '../helpers/store-helper.js';

// Single puts on an idle store are small jobs written at once on the event loop (through the page
// cache); a burst of 300 staged together fills several chunks and goes to the writer thread as
// O_DIRECT writes. The first job of a burst can complete the oldest chunk right inside the write
// loop's pass over the chunks: the pass once skipped the next chunk, wrote the one after it first,
// acknowledged past the skipped bytes, and the skipped chunk's zero-padded last block, written
// later, wiped the start of the next chunk's first record (acked, then gone after a restart).
test('single puts and bursts interleaved: every acknowledged record reads back from the files, before and after a restart', async () => {
  const cfg = testConfig(tempDir(), {
    mappedFileSizeCommitLog: 256 * 1024,
    mappedFileSizeConsumeQueue: 20 * 4000,
    commitLogDirectIo: true,
  });
  const stored: { n: number; phy: number; queueId: number; queueOffset: number }[] = [];
  let n = 0;
  const put = async (s: MessageStore): Promise<void> => {
    const i = n++;
    const r = await s.putMessage(msg('MixTopic', i % 2, body(i)));
    assert.equal(r.status, 'PUT_OK');
    const a = r.appendResult!;
    stored.push({ n: i, phy: a.wroteOffset, queueId: i % 2, queueOffset: a.logicsOffset });
  };
  let store = await openStore(cfg);
  try {
    for (let round = 0; round < 6; round++) {
      for (let k = 0; k < 20; k++) await put(store);
      await Promise.all(Array.from({ length: 300 }, () => put(store)));
    }
    const files = store.commitLog.files.files;
    assert.ok(files.length > 3, 'several segments');
    assert.ok(
      files.every((f) => f.directOpened === true),
      'the segments are written with O_DIRECT',
    );
    // Records well behind the newest ones are no longer in staging memory: read from the files
    // while the last single puts may still sit in the page cache only.
    for (const s of stored.slice(0, 200)) {
      const m = await store.lookMessageByOffset(s.phy);
      assert.ok(m, `record ${s.n} at ${s.phy}`);
      assert.deepEqual(m.body, body(s.n), `body of ${s.n} before the restart`);
    }
  } finally {
    await store.shutdown();
  }
  store = await openStore(cfg);
  try {
    for (const s of stored) {
      const m = await store.lookMessageByOffset(s.phy);
      assert.ok(m, `record ${s.n} at ${s.phy}`);
      assert.deepEqual(m.body, body(s.n), `body of ${s.n}`);
      assert.equal(m.queueOffset, s.queueOffset);
    }
    for (const q of [0, 1]) {
      const want = stored.filter((s) => s.queueId === q);
      let offset = 0;
      let i = 0;
      while (offset < store.getMaxOffsetInQueue('MixTopic', q)) {
        const r = await store.getMessage('g', 'MixTopic', q, offset, 32);
        assert.equal(r.status, 'FOUND');
        for (const raw of r.messages) {
          const m = decodeRecord(raw, 0);
          assert.ok(m);
          assert.deepEqual(m.body, body(want[i]!.n), `queue ${q} message ${i}`);
          i++;
        }
        offset = r.nextBeginOffset;
      }
      assert.equal(i, want.length, `queue ${q} holds every record`);
    }
  } finally {
    await store.shutdown();
  }
});

// While the writer thread has work queued and the event loop has time to spare, the loop seals
// the next job itself and hands it over as already sealed. Here the loop is made to look idle.
/** Makes the event loop look idle to the write loop until the returned function is called. */
function idleLoop(): () => void {
  const realElu = performance.eventLoopUtilization;
  performance.eventLoopUtilization = ((a?: unknown, b?: unknown) => {
    const r = realElu.call(performance, a as never, b as never);
    return a === undefined ? r : { ...r, utilization: 0 };
  }) as typeof performance.eventLoopUtilization;
  return () => {
    performance.eventLoopUtilization = realElu;
  };
}

/** 20 bursts of 200 puts, 60 ms apart; the stored offsets in put order. */
async function bursts(store: MessageStore): Promise<number[]> {
  const offsets: number[] = [];
  for (let round = 0; round < 20; round++) {
    const rs = await Promise.all(
      Array.from({ length: 200 }, (_, k) => store.putMessage(msg('SealHere', k % 2, body(round * 200 + k)))),
    );
    for (const r of rs) {
      assert.equal(r.status, 'PUT_OK');
      offsets.push(r.appendResult!.wroteOffset);
    }
    await new Promise((r) => setTimeout(r, 60));
  }
  return offsets;
}

test('jobs sealed on an idle event loop are written with valid CRCs', async () => {
  const restore = idleLoop();
  const cfg = testConfig(tempDir(), { mappedFileSizeCommitLog: 1024 * 1024, commitLogDirectIo: true });
  let offsets: number[];
  let store = await openStore(cfg);
  try {
    offsets = await bursts(store);
    assert.ok(store.commitLog.jobsSealedOnLoop > 0, 'some jobs were sealed on the loop');
  } finally {
    restore();
    await store.shutdown();
  }
  // Reads check both CRCs and never serve a record that fails them.
  store = await openStore(cfg);
  try {
    for (const [i, phy] of offsets.entries()) {
      const m = await store.lookMessageByOffset(phy);
      assert.ok(m, `record ${i} at ${phy}`);
      assert.deepEqual(m.body, body(i));
    }
  } finally {
    await store.shutdown();
  }
});

test('under SYNC_FLUSH the event loop leaves sealing to the writer thread, idle or not', async () => {
  const restore = idleLoop();
  const store = await openStore(
    testConfig(tempDir(), { mappedFileSizeCommitLog: 1024 * 1024, flushDiskType: 'SYNC_FLUSH' }),
  );
  try {
    await bursts(store);
    assert.equal(store.commitLog.jobsSealedOnLoop, 0);
  } finally {
    restore();
    await store.shutdown();
  }
});

// Under SYNC_FLUSH the writer thread ends its rounds with an fdatasync and the puts it covered are
// answered from its report; the event loop flushes only what the thread will not, such as the
// earlier segment's tail after a roll (the thread syncs only the files of its round).
test('SYNC_FLUSH bursts across segment rolls: group commits come from the writer thread, every put answered once durable', async () => {
  const store = await openStore(
    testConfig(tempDir(), { mappedFileSizeCommitLog: 256 * 1024, flushDiskType: 'SYNC_FLUSH' }),
  );
  try {
    const flusher = store.flusher;
    let n = 0;
    for (let round = 0; round < 8; round++) {
      await Promise.all(
        Array.from({ length: 200 }, async () => {
          const i = n++;
          const r = await store.putMessage(msg('SyncTopic', i % 4, body(i)));
          assert.equal(r.status, 'PUT_OK', `put ${i}`);
          const a = r.appendResult!;
          assert.ok(
            flusher.flushedOffset >= a.wroteOffset + a.wroteBytes,
            `put ${i} answered before an fdatasync covered it`,
          );
        }),
      );
    }
    assert.ok(store.commitLog.files.files.length > 3, 'several segments');
    assert.ok(flusher.threadSyncs > 0, 'the writer thread did group commits');
    assert.equal(flusher.flushedOffset, store.commitLog.writtenOffset);
  } finally {
    await store.shutdown();
  }
});
