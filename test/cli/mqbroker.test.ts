import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequest } from '../../src/remoting/remoting-command.js';
import { RequestCode } from '../../src/protocol/request-code.js';
import { ResponseCode } from '../../src/protocol/response-code.js';
import { decodeClusterInfo } from '../../src/protocol/route-data.js';
import { decodeRecords } from '../../src/common/message/message-record.js';
import { tempDir } from '../helpers/temp-dir.js';
import { run, spawnChild, type Spawned } from '../helpers/child.js';
import { waitFor } from '../helpers/wait.js';
import { createTopic, pull, send, testClient } from '../helpers/broker-calls.js';

const root = new URL('../..', import.meta.url).pathname;
const bin = (name: string): string => join(root, 'bin', `${name}.mjs`);

function pidInfo(dir: string, role: string, pid?: number): { pid: number; port: number } {
  const f = readdirSync(dir).find(
    (n) => n.startsWith(`${role}-`) && (pid === undefined || n === `${role}-${pid}.pid`),
  );
  assert.ok(f, `no ${role} pid file`);
  return JSON.parse(readFileSync(join(dir, f), 'utf8')) as { pid: number; port: number };
}

test('mqnamesrv + mqbroker processes: acked messages survive kill -9 of the broker', async () => {
  assert.ok(existsSync(join(root, 'dist/src/cli/mqbroker.js')), 'run `npm run build` first (npm test does)');
  const dir = tempDir('rmq-cli-broker-');
  const env = { ROCKETMQ_PID_DIR: join(dir, 'run'), ROCKETMQ_USER_HOME: join(dir, 'home') };
  writeFileSync(join(dir, 'namesrv.properties'), 'listenPort=0\nbindAddress=127.0.0.1\n');
  const ns = spawnChild(process.execPath, [bin('mqnamesrv'), '-c', join(dir, 'namesrv.properties')], env);
  await waitFor(() => ns.stdout().includes('boot success'), 'namesrv boot');
  const nsAddr = `127.0.0.1:${pidInfo(env.ROCKETMQ_PID_DIR, 'namesrv').port}`;

  // A seed-style file: the user's keys, with ports and paths a test may use.
  writeFileSync(
    join(dir, 'broker.properties'),
    [
      'brokerClusterName=rocketmq-cluster',
      'brokerName=broker-a',
      'brokerId=0',
      'listenPort=0',
      'bindAddress=127.0.0.1',
      'brokerIP1=127.0.0.1',
      'deleteWhen=04',
      'fileReservedTime=120',
      'mapedFileSizeCommitLog=4194304',
      'mapedFileSizeConsumeQueue=300000',
      'diskMaxUsedSpaceRatio=88',
      `storePathRootDir=${join(dir, 'store')}`,
      `storePathCommitLog=${join(dir, 'store/commitlog')}`,
      'maxMessageSize=65536',
      'brokerRole=ASYNC_MASTER',
      'flushDiskType=SYNC_FLUSH',
      'sendMessageThreadPoolNums=128',
    ].join('\n'),
  );
  const startBroker = async (): Promise<{ proc: Spawned; addr: string }> => {
    const proc = spawnChild(
      process.execPath,
      [bin('mqbroker'), '-n', nsAddr, '-c', join(dir, 'broker.properties')],
      env,
    );
    await waitFor(
      () => proc.stdout().includes('boot success'),
      `broker boot (stderr: ${proc.stderr()})`,
      20_000,
    );
    const { port } = pidInfo(env.ROCKETMQ_PID_DIR, 'broker', proc.child.pid);
    assert.match(
      proc.stdout(),
      new RegExp(
        `The broker\\[broker-a, 127\\.0\\.0\\.1:${port}\\] boot success\\. serializeType=JSON and name server is ${nsAddr}`,
      ),
    );
    return { proc, addr: `127.0.0.1:${port}` };
  };

  const first = await startBroker();
  const c = testClient();
  const info = decodeClusterInfo(
    (await c.invoke(nsAddr, createRequest(RequestCode.GET_BROKER_CLUSTER_INFO))).body,
  );
  assert.deepEqual(info.clusterAddrTable.get('rocketmq-cluster'), ['broker-a']);
  assert.equal((await createTopic(c, first.addr, 'Durable', 2)).code, ResponseCode.SUCCESS);

  const acked: string[] = [];
  let stop = false;
  const writer = (async () => {
    for (let i = 0; !stop; i++) {
      try {
        const r = await send(c, first.addr, { topic: 'Durable', body: `msg-${i}`, queueId: i % 2 });
        if (r.code === ResponseCode.SUCCESS) acked.push(`msg-${i}`);
      } catch {
        return; // the broker died mid-call: that message was never acknowledged
      }
    }
  })();
  await waitFor(() => acked.length >= 300, 'some acknowledged sends');
  process.kill(first.proc.child.pid!, 'SIGKILL');
  await first.proc.exited;
  stop = true;
  await writer;
  const ackedBeforeKill = [...acked];

  const second = await startBroker();
  const c2 = testClient();
  const got: string[] = [];
  for (const queueId of [0, 1]) {
    let offset = 0;
    for (;;) {
      const r = await pull(c2, second.addr, { topic: 'Durable', queueId, offset, max: 32 });
      if (r.code !== ResponseCode.SUCCESS) break;
      const msgs = decodeRecords(r.body!);
      got.push(...msgs.map((m) => m.body.toString()));
      offset = Number(r.extFields!.nextBeginOffset);
    }
  }
  const have = new Set(got);
  const lost = ackedBeforeKill.filter((m) => !have.has(m));
  assert.deepEqual(lost, [], `${lost.length} of ${ackedBeforeKill.length} acknowledged messages lost`);

  const stopBroker = await run(process.execPath, [bin('mqshutdown'), 'broker'], env);
  assert.equal(stopBroker.code, 0);
  assert.equal(await second.proc.exited, 0);
  const stopNs = await run(process.execPath, [bin('mqshutdown'), 'namesrv'], env);
  assert.equal(stopNs.code, 0);
  assert.equal(await ns.exited, 0);
});

test('mqbroker -m prints the important keys; a wrong value stops start-up naming key and file', async () => {
  const dir = tempDir('rmq-cli-broker-');
  const conf = join(dir, 'b.properties');
  writeFileSync(conf, 'brokerName=bx\nlistenPort=10999\n');
  const m = await run(process.execPath, [bin('mqbroker'), '-c', conf, '-m', '-n', '127.0.0.1:1'], {
    ROCKETMQ_USER_HOME: dir,
  });
  assert.equal(m.code, 0);
  assert.match(m.stdout, /^brokerName=bx$/m);
  assert.match(m.stdout, /^namesrvAddr=127\.0\.0\.1:1$/m);
  assert.match(m.stdout, /^listenPort=10999$/m);
  assert.doesNotMatch(m.stdout, /^sendMessageThreadPoolNums=/m, '-m prints only important keys');

  writeFileSync(conf, 'brokerRole=MASTER\n');
  const bad = await run(process.execPath, [bin('mqbroker'), '-c', conf], { ROCKETMQ_USER_HOME: dir });
  assert.equal(bad.code, 1);
  assert.match(
    bad.stderr,
    /b\.properties: invalid value 'MASTER' for key 'brokerRole', expected one of ASYNC_MASTER, SYNC_MASTER, SLAVE/,
  );
  writeFileSync(conf, 'listenPort=ten\n');
  const bad2 = await run(process.execPath, [bin('mqbroker'), '-c', conf], { ROCKETMQ_USER_HOME: dir });
  assert.match(bad2.stderr, /invalid value 'ten' for key 'listenPort'/);
});
