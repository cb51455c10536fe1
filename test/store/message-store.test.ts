import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync, readFileSync, appendFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { decodeRecord } from '../../src/common/message/message-record.js';
import { javaStringHashCode } from '../../src/common/java-hash.js';
import { encodeBatch } from '../../src/store/batch-decoder.js';
import { nodeStoreFs, type StoreFs } from '../../src/store/io/store-fs.js';
import { msg, openStore, props, tempDir, testConfig } from './helpers/store-helper.js';

test('segments roll with an end-of-file filler; reads cross segments', async () => {
  const root = tempDir();
  const cfg = testConfig(root);
  const s = await openStore(cfg);
  const body = Buffer.alloc(3000, 7);
  for (let i = 0; i < 60; i++)
    assert.equal((await s.putMessage(msg('Roll', 0, body, props({ TAGS: 'a' })))).status, 'PUT_OK');
  const files = readdirSync(join(root, 'commitlog')).sort();
  assert.ok(files.length >= 3, `rolled: ${files.join(',')}`);
  assert.equal(files[1], String(64 * 1024).padStart(20, '0'));
  // The first segment ends with a BLANK filler whose size reaches the segment end.
  const seg = readFileSync(join(root, 'commitlog', files[0]!));
  assert.equal(seg.length, 64 * 1024);
  let pos = 0;
  while (seg.readInt32BE(pos + 4) !== -875286124) pos += seg.readInt32BE(pos);
  assert.equal(pos + seg.readInt32BE(pos), 64 * 1024);
  let offset = 0;
  let n = 0;
  while (offset < s.getMaxOffsetInQueue('Roll', 0)) {
    const r = await s.getMessage('g', 'Roll', 0, offset, 32);
    assert.equal(r.status, 'FOUND');
    for (const m of r.messages) assert.deepEqual(decodeRecord(m, 0)!.body, body);
    n += r.messages.length;
    offset = r.nextBeginOffset;
  }
  assert.equal(n, 60);
  await s.shutdown();
});

test('getMessage statuses, tag filter, min/max, offsets by time', async () => {
  const s = await openStore(testConfig(tempDir()));
  assert.equal((await s.getMessage('g', 'T', 0, 0, 32)).status, 'NO_MATCHED_LOGIC_QUEUE');
  const t0 = Date.now();
  for (let i = 0; i < 10; i++)
    await s.putMessage(msg('T', 0, `m${i}`, props({ TAGS: i % 2 ? 'TagB' : 'TagA' })));
  assert.equal(s.getMaxOffsetInQueue('T', 0), 10);
  assert.equal(s.getMinOffsetInQueue('T', 0), 0);
  assert.equal((await s.getMessage('g', 'T', 0, 10, 32)).status, 'OFFSET_OVERFLOW_ONE');
  const badly = await s.getMessage('g', 'T', 0, 15, 32);
  assert.equal(badly.status, 'OFFSET_OVERFLOW_BADLY');
  assert.equal(badly.nextBeginOffset, 10, '4.9.8: past the end moves to maxOffset');
  const tagB = javaStringHashCode('TagB');
  const only = await s.getMessage('g', 'T', 0, 0, 32, { isMatchedByConsumeQueue: (c) => c === tagB });
  assert.equal(only.status, 'FOUND');
  assert.deepEqual(only.queueOffsets, [1, 3, 5, 7, 9]);
  assert.equal(only.nextBeginOffset, 10);
  const none = await s.getMessage('g', 'T', 0, 0, 32, { isMatchedByConsumeQueue: () => false });
  assert.equal(none.status, 'NO_MATCHED_MESSAGE');
  const limited = await s.getMessage('g', 'T', 0, 2, 3);
  assert.deepEqual(limited.queueOffsets, [2, 3, 4]);
  assert.equal(limited.nextBeginOffset, 5);
  assert.equal(await s.getOffsetInQueueByTime('T', 0, t0 - 1000), 0);
  assert.equal(await s.getOffsetInQueueByTime('T', 0, Date.now() + 1000), 10);
  assert.ok((await s.getEarliestMessageTime('T', 0)) >= t0);
  await s.shutdown();
});

test('batch gets consecutive queue offsets; index finds keys and unique keys', async () => {
  const s = await openStore(testConfig(tempDir()));
  await s.putMessage(msg('B', 1, 'single'));
  const body = encodeBatch([
    { body: Buffer.from('b0'), properties: props({ KEYS: 'order-1 shared', UNIQ_KEY: 'U0' }) },
    { body: Buffer.from('b1'), properties: props({ KEYS: 'order-2 shared', UNIQ_KEY: 'U1' }) },
    { body: Buffer.from('b2'), properties: props({ UNIQ_KEY: 'U2' }) },
  ]);
  const r = await s.putMessages({
    topic: 'B',
    queueId: 1,
    body,
    sysFlag: 0,
    bornTimestamp: 1,
    bornHost: { host: '1.2.3.4', port: 1 },
  });
  assert.equal(r.status, 'PUT_OK');
  assert.equal(r.appendResult!.logicsOffset, 1);
  assert.equal(r.appendResult!.msgNum, 3);
  assert.equal(r.appendResult!.msgId.split(',').length, 3);
  const g = await s.getMessage('g', 'B', 1, 0, 32);
  assert.deepEqual(
    g.messages.map((m) => decodeRecord(m, 0)!.body.toString()),
    ['single', 'b0', 'b1', 'b2'],
  );
  const end = Date.now() + 60000;
  const q1 = await s.queryMessage('B', 'order-2', 32, 0, end);
  assert.deepEqual(
    q1.messages.map((m) => decodeRecord(m, 0)!.body.toString()),
    ['b1'],
  );
  assert.equal((await s.queryMessage('B', 'shared', 32, 0, end)).messages.length, 2);
  assert.equal((await s.queryMessage('B', 'U2', 32, 0, end)).messages.length, 1);
  assert.equal((await s.queryMessage('Other', 'U2', 32, 0, end)).messages.length, 0);
  await s.shutdown();
});

test('transactions: prepared/rollback records get no queue unit; delayed messages carry their delivery time', async () => {
  const s = await openStore(testConfig(tempDir()));
  const prepared = await s.putMessage(msg('Tx', 0, 'half', '', { sysFlag: 0x4 }));
  assert.equal(prepared.status, 'PUT_OK');
  assert.equal(s.getMaxOffsetInQueue('Tx', 0), 0);
  const m = await s.lookMessageByOffset(prepared.appendResult!.wroteOffset);
  assert.equal(m!.body.toString(), 'half');
  await s.putMessage(msg('Tx', 0, 'commit', '', { sysFlag: 0x8 }));
  assert.equal(s.getMaxOffsetInQueue('Tx', 0), 1);
  const d = await s.putMessage(msg('SCHEDULE_TOPIC_XXXX', 2, 'later', props({ DELAY: '3', TAGS: 'x' })));
  const unit = await s.getUnit('SCHEDULE_TOPIC_XXXX', 2, 0);
  assert.equal(unit![2], d.appendResult!.storeTimestamp + 10000);
  await s.shutdown();
});

test('restart after a clean shutdown keeps everything; a second process is refused by the lock', async () => {
  const root = tempDir();
  const cfg = testConfig(root);
  let s = await openStore(cfg);
  for (let i = 0; i < 20; i++) await s.putMessage(msg('R', i % 2, `r${i}`));
  await assert.rejects(openStore(cfg), (e: { code?: string }) => e.code === 'RMQ_STORE_LOCKED');
  await s.shutdown();
  s = await openStore(cfg);
  assert.equal(s.recoveryReport!.abnormal, false);
  assert.equal(s.getMaxOffsetInQueue('R', 1), 10);
  assert.equal((await s.putMessage(msg('R', 1, 'x'))).appendResult!.logicsOffset, 10);
  await s.shutdown();
});

/** Marks a cleanly closed store as crashed with a lost checkpoint, so recovery walks every segment. */
function crashed(root: string): void {
  writeFileSync(join(root, 'abort'), '');
  writeFileSync(join(root, 'checkpoint'), Buffer.alloc(4096));
}

async function filled(root: string, n: number): Promise<number[]> {
  const s = await openStore(testConfig(root));
  const offs: number[] = [];
  for (let i = 0; i < n; i++)
    offs.push((await s.putMessage(msg('C', 0, `c${i}`, props({ TAGS: 't' })))).appendResult!.wroteOffset);
  await s.shutdown();
  crashed(root);
  return offs;
}

test('torn tail: garbage after the last record is cut and reported', async () => {
  const root = tempDir();
  const offs = await filled(root, 5);
  const seg = join(root, 'commitlog', '00000000000000000000');
  const end = statSync(seg).size;
  const data = readFileSync(seg);
  let last = offs[4]!;
  last += data.readInt32BE(last);
  data.write('GARBAGE-GARBAGE-GARBAGE', last);
  writeFileSync(seg, data);
  assert.equal(statSync(seg).size, end);
  const s = await openStore(testConfig(root));
  const rep = s.recoveryReport!;
  assert.equal(rep.validEnd, last);
  assert.equal(rep.problems.length, 1);
  assert.equal(rep.problems[0]!.offset, last);
  assert.ok(rep.problems[0]!.file.endsWith('00000000000000000000'));
  assert.equal(s.getMaxOffsetInQueue('C', 0), 5);
  assert.equal((await s.putMessage(msg('C', 0, 'next'))).appendResult!.wroteOffset, last);
  await s.shutdown();
});

for (const damage of ['cut short', 'flipped byte'] as const) {
  test(`last record ${damage}: dropped, reported with file and offset, queues follow`, async () => {
    const root = tempDir();
    const offs = await filled(root, 5);
    const seg = join(root, 'commitlog', '00000000000000000000');
    const data = readFileSync(seg);
    const at = offs[4]!;
    const size = data.readInt32BE(at);
    if (damage === 'cut short') data.fill(0, at + size - 10, at + size);
    else data[at + 100] = data[at + 100]! ^ 1;
    writeFileSync(seg, data);
    const s = await openStore(testConfig(root));
    assert.equal(s.recoveryReport!.validEnd, at);
    assert.equal(s.recoveryReport!.problems[0]!.offset, at);
    assert.equal(s.getMaxOffsetInQueue('C', 0), 4);
    assert.equal(await s.lookMessageByOffset(at), undefined);
    assert.equal((await s.lookMessageByOffset(offs[3]!))!.body.toString(), 'c3');
    await s.shutdown();
  });
}

test('a flipped byte mid-log is reported with the data it cuts; reads never serve a bad record', async () => {
  const root = tempDir();
  const offs = await filled(root, 6);
  const seg = join(root, 'commitlog', '00000000000000000000');
  const data = readFileSync(seg);
  data[offs[2]! + 90] = data[offs[2]! + 90]! ^ 0x10;
  writeFileSync(seg, data);
  const s = await openStore(testConfig(root));
  const p = s.recoveryReport!.problems[0]!;
  assert.equal(p.offset, offs[2]);
  assert.ok(p.droppedBytes > 0);
  assert.equal(s.getMaxOffsetInQueue('C', 0), 2);
  await s.shutdown();
});

test('bytes past the end of the last segment are cut, not a reason to refuse to start', async () => {
  const root = tempDir();
  await filled(root, 3);
  const seg = join(root, 'commitlog', '00000000000000000000');
  appendFileSync(seg, Buffer.alloc(5000, 1));
  const s = await openStore(testConfig(root));
  assert.equal(statSync(seg).size, 64 * 1024);
  assert.equal(s.getMaxOffsetInQueue('C', 0), 3);
  await s.shutdown();
});

test('ENOSPC on a write fails those puts, keeps stored data intact and resumes', async () => {
  let fail = false;
  const fs: StoreFs = {
    ...nodeStoreFs,
    write: (fd, buf, off, len, pos) =>
      fail
        ? Promise.reject(Object.assign(new Error('no space'), { code: 'ENOSPC' }))
        : nodeStoreFs.write(fd, buf, off, len, pos),
  };
  const s = await openStore(testConfig(tempDir()), { fs });
  for (let i = 0; i < 5; i++) await s.putMessage(msg('D', 0, `ok${i}`));
  fail = true;
  const r = await s.putMessage(msg('D', 0, 'lost'));
  assert.equal(r.status, 'SERVICE_NOT_AVAILABLE');
  assert.match(r.remark ?? '', /disk full/);
  fail = false;
  let again = await s.putMessage(msg('D', 0, 'after'));
  for (let i = 0; i < 50 && again.status !== 'PUT_OK'; i++) {
    await new Promise((res) => setTimeout(res, 10));
    again = await s.putMessage(msg('D', 0, 'after'));
  }
  assert.equal(again.status, 'PUT_OK');
  assert.equal(again.appendResult!.logicsOffset, 5);
  const g = await s.getMessage('g', 'D', 0, 0, 32);
  assert.deepEqual(
    g.messages.map((m) => decodeRecord(m, 0)!.body.toString()),
    ['ok0', 'ok1', 'ok2', 'ok3', 'ok4', 'after'],
  );
  await s.shutdown();
});

test('disk above the warning level: writes refused with a clear remark; below: accepted', async () => {
  let used = 0.95;
  const fs: StoreFs = {
    ...nodeStoreFs,
    diskUsage: async () => ({ totalBytes: 1000, freeBytes: 1000 * (1 - used) }),
  };
  const s = await openStore(testConfig(tempDir()), { fs });
  const r = await s.putMessage(msg('F', 0, 'x'));
  assert.equal(r.status, 'SERVICE_NOT_AVAILABLE');
  assert.match(r.remark ?? '', /disk full: 95\.0% used/);
  used = 0.5;
  await s.cleanNow();
  assert.equal((await s.putMessage(msg('F', 0, 'x'))).status, 'PUT_OK');
  await s.shutdown();
});

test('retention deletes old segments and moves queue minimums', async () => {
  const root = tempDir();
  const s = await openStore(testConfig(root, { fileReservedTime: 0, deleteCommitLogFilesInterval: 0 }));
  for (let i = 0; i < 80; i++) await s.putMessage(msg('Old', 0, Buffer.alloc(3000, 1)));
  const before = readdirSync(join(root, 'commitlog')).length;
  s.executeDeleteFilesManually();
  await s.cleanNow();
  assert.equal(readdirSync(join(root, 'commitlog')).length, 1);
  assert.ok(before > 1);
  assert.ok(s.getMinPhyOffset() > 0);
  const min = s.getMinOffsetInQueue('Old', 0);
  assert.ok(min > 0);
  assert.equal((await s.getMessage('g', 'Old', 0, 0, 32)).status, 'OFFSET_TOO_SMALL');
  assert.equal((await s.getMessage('g', 'Old', 0, min, 32)).status, 'FOUND');
  await s.shutdown();
});

test('bad input never throws', async () => {
  const s = await openStore(testConfig(tempDir()));
  assert.equal((await s.putMessage(msg('', 0, 'x'))).status, 'MESSAGE_ILLEGAL');
  assert.equal((await s.putMessage(msg('T', -1, 'x'))).status, 'MESSAGE_ILLEGAL');
  assert.equal(
    (await s.putMessage({ ...msg('T', 0, 'x'), bornHost: { host: 'nope', port: 1 } })).status,
    'MESSAGE_ILLEGAL',
  );
  const bad = await s.putMessages({
    topic: 'T',
    queueId: 0,
    body: Buffer.from('garbage'),
    sysFlag: 0,
    bornTimestamp: 0,
    bornHost: { host: '1.1.1.1', port: 1 },
  });
  assert.equal(bad.status, 'MESSAGE_ILLEGAL');
  assert.equal(await s.lookMessageByOffset(123456789), undefined);
  assert.equal(await s.lookMessageByOffset(-5), undefined);
  await s.shutdown();
});
