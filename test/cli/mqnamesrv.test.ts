import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/temp-dir.js';
import { run, spawnChild } from '../helpers/child.js';
import { waitFor } from '../helpers/wait.js';

const root = new URL('../..', import.meta.url).pathname;
const MQNAMESRV = join(root, 'bin/mqnamesrv.mjs');
const MQSHUTDOWN = join(root, 'bin/mqshutdown.mjs');

function assertBuilt(): void {
  assert.ok(existsSync(join(root, 'dist/src/cli/mqnamesrv.js')), 'run `npm run build` first (npm test does)');
}

/** Sends one raw frame and reads one raw frame back, no project code involved. */
async function rawCall(
  port: number,
  headerJson: string,
): Promise<{ header: Record<string, unknown>; bodyLength: number }> {
  const socket = connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  const header = Buffer.from(headerJson, 'utf8');
  const frame = Buffer.alloc(8 + header.length);
  frame.writeInt32BE(4 + header.length, 0);
  frame.writeInt32BE(header.length, 4);
  header.copy(frame, 8);
  socket.write(frame);
  let buf = Buffer.alloc(0);
  for await (const chunk of socket) {
    buf = Buffer.concat([buf, chunk as Buffer]);
    if (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) break;
  }
  socket.destroy();
  const length = buf.readInt32BE(0);
  const headerLength = buf.readInt32BE(4) & 0xffffff;
  return {
    header: JSON.parse(buf.toString('utf8', 8, 8 + headerLength)) as Record<string, unknown>,
    bodyLength: length - 4 - headerLength,
  };
}

test('the built mqnamesrv serves raw frames and stops with mqshutdown namesrv', async () => {
  assertBuilt();
  const dir = tempDir('rmq-cli-namesrv-');
  const env = { ROCKETMQ_PID_DIR: join(dir, 'run'), ROCKETMQ_USER_HOME: join(dir, 'home') };
  const conf = join(dir, 'namesrv.properties');
  writeFileSync(
    conf,
    'listenPort=0\nbindAddress=127.0.0.1\n# unknown keys are only logged\nsomethingElse=1\n',
  );
  const proc = spawnChild(process.execPath, [MQNAMESRV, '-c', conf], env);
  await waitFor(
    () => proc.stdout().includes('The Name Server boot success. serializeType=JSON'),
    'boot line',
  );
  assert.match(proc.stdout(), /load config properties file OK/);
  assert.match(proc.stderr(), /unknown config keys ignored: somethingElse/);

  const pidFile = readdirSync(env.ROCKETMQ_PID_DIR).find((f) => f.startsWith('namesrv-'))!;
  const { pid, port } = JSON.parse(readFileSync(join(env.ROCKETMQ_PID_DIR, pidFile), 'utf8')) as {
    pid: number;
    port: number;
  };
  assert.equal(pid, proc.child.pid);

  const put = await rawCall(
    port,
    '{"code":100,"language":"JAVA","opaque":1,"flag":0,"version":121,"extFields":{"namespace":"NS","key":"k","value":"v"}}',
  );
  assert.equal(put.header.code, 0);
  assert.equal(put.header.opaque, 1);
  assert.equal(put.header.flag, 1);
  const get = await rawCall(
    port,
    '{"code":101,"language":"JAVA","opaque":2,"flag":0,"version":121,"extFields":{"namespace":"NS","key":"k"}}',
  );
  assert.deepEqual(get.header.extFields, { value: 'v' });
  const route = await rawCall(
    port,
    '{"code":105,"opaque":3,"flag":0,"version":121,"extFields":{"topic":"Nope"}}',
  );
  assert.equal(route.header.code, 17);

  const shutdown = await run(process.execPath, [MQSHUTDOWN, 'namesrv'], env);
  assert.equal(shutdown.code, 0);
  assert.match(shutdown.stdout, new RegExp(`The mqnamesrv\\(${pid}\\) is running`));
  assert.equal(await proc.exited, 0, 'clean exit after SIGTERM');
  assert.equal(readdirSync(env.ROCKETMQ_PID_DIR).length, 0, 'pid file removed');
  assert.ok(existsSync(join(dir, 'home/namesrv/kvConfig.json')), 'KV persisted under user home');

  const again = await run(process.execPath, [MQSHUTDOWN, 'namesrv'], env);
  assert.equal(again.code, 1);
  assert.match(again.stdout, /No mqnamesrv running\./);
});

test('mqnamesrv -p prints the effective config; a bad value names key and file', async () => {
  assertBuilt();
  const dir = tempDir('rmq-cli-namesrv-');
  const conf = join(dir, 'ns.properties');
  writeFileSync(conf, 'listenPort = 9999\norderMessageEnable=true\n');
  const printed = await run(process.execPath, [MQNAMESRV, '-c', conf, '-p'], { ROCKETMQ_USER_HOME: dir });
  assert.equal(printed.code, 0);
  assert.match(printed.stdout, /^listenPort=9999$/m);
  assert.match(printed.stdout, /^orderMessageEnable=true$/m);

  writeFileSync(conf, 'listenPort=abc\n');
  const bad = await run(process.execPath, [MQNAMESRV, '-c', conf], { ROCKETMQ_USER_HOME: dir });
  assert.equal(bad.code, 1);
  assert.match(
    bad.stderr,
    new RegExp(`${conf.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: invalid value 'abc' for key 'listenPort'`),
  );
});
