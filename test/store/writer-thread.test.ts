import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readSync, openSync, closeSync } from 'node:fs';
import { RecordEncoder } from '../../src/store/commitlog/record-encoder.js';
import { BLOCK, Staging, type Chunk } from '../../src/store/commitlog/staging.js';
import { WriterThread, type ThreadSyncHooks } from '../../src/store/commitlog/writer-thread.js';
import { SKIPPED, type JobOutcome, type WriteJob } from '../../src/store/commitlog/write-job.js';
import { MappedFile } from '../../src/store/mapped-file.js';
import { nodeStoreFs } from '../../src/store/io/store-fs.js';
import { encodeSocketAddr } from '../../src/common/socket-address.js';
import { getLogger } from '../../src/common/logger.js';
import { msg, openStore, props, tempDir, testConfig } from './helpers/store-helper.js';

const enc = new RecordEncoder(encodeSocketAddr({ host: '127.0.0.1', port: 10911 }), 4 << 20, true);

/** Encodes record `i` at absolute offset `at` into buf[pos]; returns its size. */
function put(buf: Buffer, pos: number, at: number, i: number, seal: boolean): number {
  const body = Buffer.alloc([10, 700, 2100, 3000][i % 4]!, i & 0xff);
  const p = enc.prepare(msg('W', i % 2, body, props({ TAGS: `t${i}`, UNIQ_KEY: `U${i}` })));
  assert.ok(!('status' in p));
  return enc.encode(buf, pos, p, at, i, 1700000000000 + i, seal);
}

function reporter(): {
  report: (seq: number, o: JobOutcome) => void;
  seen: [number, JobOutcome][];
  upTo: (seq: number) => Promise<void>;
} {
  const seen: [number, JobOutcome][] = [];
  const waits: [number, () => void][] = [];
  return {
    seen,
    report: (seq, o) => {
      seen.push([seq, o]);
      for (const [s, r] of waits) if (s <= seq) r();
    },
    upTo: (seq) =>
      seen.some(([s]) => s >= seq) ? Promise.resolve() : new Promise((r) => waits.push([seq, r])),
  };
}

const noSync: ThreadSyncHooks = {
  synced: () => assert.fail('no fdatasync was asked for'),
  syncFailed: (err) => assert.fail(err),
};

function job(seq: number, chunk: Chunk, file: MappedFile, from: number, to: number, epoch = 0): WriteJob {
  return {
    seq,
    chunk,
    file,
    from,
    to,
    direct: file.directOpened === true,
    raw: false,
    headSrc: undefined,
    headLen: 0,
    ts: 0,
    epoch,
  };
}

test('writer thread: jobs sealed and written in order, queued ones merged, head block copied, tail padded', async () => {
  const file = MappedFile.create(nodeStoreFs, tempDir(), 0, 1 << 20);
  await file.ready;
  const direct = await file.openDirect();
  const st = new Staging(64 * 1024, 4, direct);
  const r = reporter();
  const w = new WriterThread(st, true, r.report, noSync, getLogger('test'));
  try {
    const expected = Buffer.alloc(256 * 1024);
    let staged = 0;
    let i = 0;
    // Chunk A: records cut into three jobs submitted back to back (the worker may merge them).
    const a = st.chunkFor(file, 4096, 0);
    const cuts: number[] = [];
    while (a.used + 8192 <= a.buf.length) {
      put(expected, staged, staged, i, true);
      const n = put(a.buf, a.used, staged, i++, false);
      a.used += n;
      staged += n;
      if (i % 5 === 0) cuts.push(a.used);
    }
    cuts.push(a.used);
    const jobsA = [cuts[0]!, cuts[2]!, a.used].map((to, k, all) =>
      job(k + 1, a, file, k ? all[k - 1]! : 0, to),
    );
    for (const j of jobsA) w.submit(j);
    // Chunk B starts inside A's last block: its head bytes come from A, copied by the worker.
    const b = st.chunkFor(file, 8192, staged);
    assert.equal(a.sealed, true);
    assert.equal(b.headFrom, a);
    const head = b.headPending;
    assert.equal(head, staged % BLOCK);
    for (let k = 0; k < 6; k++) {
      put(expected, staged, staged, i, true);
      const n = put(b.buf, b.used, staged, i++, false);
      b.used += n;
      staged += n;
    }
    const jb = job(4, b, file, head, b.used);
    jb.headSrc = a;
    jb.headLen = head;
    w.submit(jb);
    await r.upTo(4);
    assert.deepEqual(
      r.seen.map(([s, o]) => [s, o]),
      [1, 2, 3, 4].map((s) => [s, undefined]),
    );
    const fd = openSync(file.path, 'r');
    try {
      const got = Buffer.alloc(staged + BLOCK);
      readSync(fd, got, 0, got.length, 0);
      assert.ok(
        got.subarray(0, staged).equals(expected.subarray(0, staged)),
        'file holds the sealed records',
      );
      const padEnd = direct ? Math.ceil(staged / BLOCK) * BLOCK : staged;
      assert.ok(
        got.subarray(staged, padEnd).every((x) => x === 0),
        'the last block is zero-padded',
      );
    } finally {
      closeSync(fd);
    }
    assert.deepEqual(b.buf.subarray(0, head), expected.subarray(b.start, b.start + head));
  } finally {
    await w.stop();
    await file.close();
  }
});

test('writer thread: a failed write is reported, the rest of its epoch skipped, the next epoch runs', async () => {
  const file = MappedFile.create(nodeStoreFs, tempDir(), 0, 1 << 20);
  await file.ready;
  await file.openDirect();
  const st = new Staging(64 * 1024, 2, file.directOpened === true);
  const r = reporter();
  const w = new WriterThread(st, true, r.report, noSync, getLogger('test'));
  try {
    const c = st.chunkFor(file, 4096, 0);
    const n = put(c.buf, 0, 0, 0, false);
    c.used = n;
    const broken = { fileFromOffset: 0, fd: 1 << 20, directFd: 1 << 20, directOpened: file.directOpened };
    w.submit(job(1, c, broken as unknown as MappedFile, 0, n));
    w.submit(job(2, c, file, 0, n));
    await r.upTo(2);
    const [first, second] = r.seen;
    assert.equal(first![0], 1);
    assert.match(String((first![1] as { error: Error }).error), /EBADF|bad file/i);
    assert.deepEqual(second, [2, SKIPPED]);
    w.failEpoch(0);
    w.submit(job(3, c, file, 0, n, 1));
    await r.upTo(3);
    assert.deepEqual(r.seen[2], [3, undefined]);
  } finally {
    await w.stop();
    await file.close();
  }
});

test('writer thread: with syncs wanted, each round ends with an fdatasync reported after its jobs', async () => {
  const file = MappedFile.create(nodeStoreFs, tempDir(), 0, 1 << 20);
  await file.ready;
  await file.openDirect();
  const st = new Staging(64 * 1024, 4, file.directOpened === true);
  const events: string[] = [];
  const r = reporter();
  const w = new WriterThread(
    st,
    true,
    (seq, o) => {
      events.push(`job ${seq}`);
      r.report(seq, o);
    },
    {
      synced: (end, ts, fileFrom) => events.push(`synced ${end} ${ts} ${fileFrom}`),
      syncFailed: (err) => assert.fail(err),
    },
    getLogger('test'),
  );
  try {
    const c = st.chunkFor(file, 4096, 0);
    const ends: number[] = [];
    for (let i = 0; i < 9; i++) {
      c.used += put(c.buf, c.used, c.used, i, false);
      if (i % 3 === 2) ends.push(c.used);
    }
    w.syncWanted = true;
    ends.forEach((to, k) => {
      const j = job(k + 1, c, file, k ? ends[k - 1]! : 0, to);
      j.ts = 1000 + k;
      w.submit(j);
    });
    assert.equal(w.willSync, true, 'jobs are out while syncs are wanted');
    await r.upTo(3);
    await new Promise((res) => setImmediate(res));
    assert.equal(w.willSync, false);
    // Rounds may hold one job or several; each sync follows the report of the job it ends on.
    const syncs = events.filter((e) => e.startsWith('synced'));
    assert.ok(syncs.length >= 1 && syncs.length <= 3, events.join(', '));
    assert.equal(events.at(-1), `synced ${ends[2]} 1002 0`);
    for (const e of syncs) {
      const end = Number(e.split(' ')[1]);
      const k = ends.indexOf(end);
      assert.ok(k >= 0, `${e} ends on a job`);
      assert.equal(events[events.indexOf(e) - 1], `job ${k + 1}`);
    }
    // Syncs no longer wanted: jobs are reported as written, with no sync.
    w.syncWanted = false;
    const before = syncs.length;
    c.used += put(c.buf, c.used, c.used, 9, false);
    w.submit(job(4, c, file, ends[2]!, c.used));
    await r.upTo(4);
    await new Promise((res) => setImmediate(res));
    assert.equal(events.filter((e) => e.startsWith('synced')).length, before);
  } finally {
    await w.stop();
    await file.close();
  }
});

test('writer thread: a failed fdatasync is reported (the jobs were written)', async () => {
  const st = new Staging(64 * 1024, 2, false);
  const fd = openSync('/dev/null', 'w');
  // /dev/null takes writes but not fdatasync (EINVAL).
  const devNull = { fileFromOffset: 0, fd, directFd: -1, directOpened: false } as unknown as MappedFile;
  const failures: Error[] = [];
  const r = reporter();
  const w = new WriterThread(
    st,
    true,
    r.report,
    { synced: () => assert.fail('the sync failed'), syncFailed: (err) => failures.push(err) },
    getLogger('test'),
  );
  try {
    const c = st.chunkFor(devNull, 0, 0);
    c.used = put(c.buf, 0, 0, 0, false);
    w.syncWanted = true;
    w.submit(job(1, c, devNull, 0, c.used));
    await r.upTo(1);
    assert.deepEqual(r.seen, [[1, undefined]]);
    assert.equal(failures.length, 1);
    assert.equal((failures[0] as NodeJS.ErrnoException).code, 'EINVAL');
  } finally {
    await w.stop();
    closeSync(fd);
  }
});

test('writer thread: started with the store, before the first put; not with commitLogSealThread=false', async () => {
  const withThread = await openStore(testConfig(tempDir()));
  const without = await openStore(testConfig(tempDir(), { commitLogSealThread: false }));
  try {
    assert.equal(withThread.commitLog.writerThreadStarted, true);
    assert.equal(without.commitLog.writerThreadStarted, false);
    assert.equal((await withThread.putMessage(msg('W', 0, 'x'))).status, 'PUT_OK');
    assert.equal((await without.putMessage(msg('W', 0, 'x'))).status, 'PUT_OK');
    assert.equal(without.commitLog.writerThreadStarted, false);
  } finally {
    await withThread.shutdown();
    await without.shutdown();
  }
});
