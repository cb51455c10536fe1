import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { MessageStore } from '../../src/store/message-store.js';
import { defaultMessageStoreConfig, type MessageStoreConfig } from '../../src/store/message-store-config.js';
import { readInt64 } from '../../src/common/int64.js';
import { crashBody } from './helpers/crash-data.js';
import { STORE_HOST, tempDir } from './helpers/store-helper.js';

const child = fileURLToPath(new URL('./helpers/store-child.ts', import.meta.url));

interface Ack {
  n: number;
  phy: number;
  queueId: number;
  queueOffset: number;
}

/** Runs the appending child until `minAcks` acks arrived, then SIGKILLs it. */
async function appendAndKill(
  cfg: Partial<MessageStoreConfig>,
  minAcks: number,
  inFlight = 32,
): Promise<Ack[]> {
  const args = ['--import', 'tsx', child, JSON.stringify(cfg), 'append', String(inFlight)];
  const proc = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ROCKETMQ_LOG_LEVEL: 'error' },
  });
  const acks: Ack[] = [];
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  const rl = createInterface({ input: proc.stdout });
  const closed = new Promise((r) => rl.once('close', r));
  let killed = false;
  rl.on('line', (line) => {
    const [n, phy, q, qo] = line.split(' ').map(Number);
    if (line.startsWith('error')) throw new Error(line);
    acks.push({ n: n!, phy: phy!, queueId: q!, queueOffset: qo! });
    if (!killed && acks.length >= minAcks) {
      killed = true;
      proc.kill('SIGKILL');
    }
  });
  await exited;
  // Lines written before the kill are all acked puts; drain what the pipe still holds.
  await closed;
  return acks;
}

async function verify(cfg: MessageStoreConfig, acks: Ack[]): Promise<void> {
  const store = new MessageStore(cfg, { storeHost: STORE_HOST });
  const report = await store.start();
  try {
    assert.equal(report.abnormal, true);
    for (const a of acks) {
      const m = await store.lookMessageByOffset(a.phy);
      assert.ok(m, `acked message ${a.n} at ${a.phy} must be readable`);
      assert.deepEqual(m.body, crashBody(a.n), `body of ${a.n}`);
      assert.equal(m.queueId, a.queueId);
      assert.equal(m.queueOffset, a.queueOffset);
      assert.equal(m.flag, a.n);
      const unit = await store.getUnit('CrashTopic', a.queueId, a.queueOffset);
      assert.ok(unit, `CQ unit ${a.queueId}@${a.queueOffset}`);
      assert.equal(unit[0], a.phy, `CQ unit of ${a.n} points at its record`);
    }
    // Every CQ unit points at a record of its own queue with its own queue offset.
    for (let q = 0; q < 3; q++) {
      const max = store.getMaxOffsetInQueue('CrashTopic', q);
      for (let o = store.getMinOffsetInQueue('CrashTopic', q); o < max; o++) {
        const u = (await store.getUnit('CrashTopic', q, o))!;
        const m = await store.lookMessageByOffset(u[0], u[1]);
        assert.ok(m, `record of unit ${q}@${o}`);
        assert.equal(m.queueId, q);
        assert.equal(m.queueOffset, o);
      }
      // New puts continue the queue without a gap.
      const r = await store.putMessage({
        topic: 'CrashTopic',
        queueId: q,
        body: Buffer.from('after'),
        flag: 0,
        properties: '',
        sysFlag: 0,
        bornTimestamp: 1,
        bornHost: STORE_HOST,
      });
      assert.equal(r.status, 'PUT_OK');
      assert.equal(r.appendResult!.logicsOffset, max);
    }
    const g = await store.getMessage('g', 'CrashTopic', 0, 0, 32);
    assert.equal(g.status, 'FOUND');
    const u = Buffer.alloc(8);
    void readInt64(u, 0);
  } finally {
    await store.shutdown();
  }
}

const small = {
  mappedFileSizeCommitLog: 256 * 1024,
  mappedFileSizeConsumeQueue: 20 * 500,
  maxHashSlotNum: 1000,
  maxIndexNum: 100000,
  flushIntervalConsumeQueue: 100,
  writeBufferSize: 64 * 1024,
};

for (const flushDiskType of ['SYNC_FLUSH', 'ASYNC_FLUSH'] as const) {
  for (const commitLogDirectIo of [true, false]) {
    const io = commitLogDirectIo ? 'direct writes' : 'page cache writes';
    test(`kill -9 under ${flushDiskType} (${io}): every acked message reads back, queues agree`, async () => {
      const cfg = { storePathRootDir: tempDir(), flushDiskType, commitLogDirectIo, ...small };
      const acks = await appendAndKill(cfg, flushDiskType === 'SYNC_FLUSH' ? 2000 : 6000);
      assert.ok(acks.length > 0);
      await verify(defaultMessageStoreConfig(cfg), acks);
    });
  }
}

// Large staged batches: records are sealed on the worker thread and written in big direct writes
// that end inside records (the log's written end must still land on a record boundary).
test('kill -9 with 1024 puts in flight and 4 MiB staging (sealing worker, direct writes)', async () => {
  const cfg = {
    storePathRootDir: tempDir(),
    flushDiskType: 'ASYNC_FLUSH' as const,
    ...small,
    mappedFileSizeCommitLog: 8 * 1024 * 1024,
    writeBufferSize: 4 * 1024 * 1024,
  };
  const acks = await appendAndKill(cfg, 30000, 1024);
  await verify(defaultMessageStoreConfig(cfg), acks);
});
