import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createRequest } from '../../src/remoting/remoting-command.js';
import { RequestCode } from '../../src/protocol/request-code.js';
import { ResponseCode } from '../../src/protocol/response-code.js';
import { decodeTopicRouteData } from '../../src/protocol/route-data.js';
import { tempDir } from '../helpers/temp-dir.js';
import { spawnChild } from '../helpers/child.js';
import { waitFor } from '../helpers/wait.js';
import { pull, send, testClient } from '../helpers/broker-calls.js';
import { decodeRecords } from '../../src/common/message/message-record.js';

const root = new URL('../..', import.meta.url).pathname;

test('rocketmq-ts standalone runs a NameServer and a broker in one process and stops on SIGINT', async () => {
  const dir = tempDir('rmq-standalone-');
  const data = join(dir, 'data');
  const env = { ROCKETMQ_PID_DIR: join(dir, 'run') };
  const start = () =>
    spawnChild(
      process.execPath,
      [
        join(root, 'bin/rocketmq-ts.mjs'),
        'standalone',
        '--data',
        data,
        '--namesrv-port',
        '0',
        '--broker-port',
        '0',
      ],
      env,
    );
  const proc = start();
  await waitFor(
    () => proc.stdout().includes('Ctrl-C stops it.'),
    `standalone boot (stderr: ${proc.stderr()})`,
    20_000,
  );
  const nsAddr = /NameServer\s+(\S+)/.exec(proc.stdout())![1]!;
  const brokerAddr = /Broker\s+(\S+)/.exec(proc.stdout())![1]!;
  assert.match(proc.stdout(), /NAMESRV_ADDR=127\.0\.0\.1:\d+ node dist\/examples\/quickstart\/producer\.js/);

  const c = testClient();
  const sent = await send(c, brokerAddr, { topic: 'TopicTest', body: 'Hello RocketMQ 0', tags: 'TagA' });
  assert.equal(sent.code, ResponseCode.SUCCESS, 'the auto-created topic accepts the message');
  const route = await c.invoke(
    nsAddr,
    createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { extFields: { topic: 'TopicTest' } }),
  );
  assert.equal(decodeTopicRouteData(route.body).brokerDatas[0]!.brokerAddrs.get(0), brokerAddr);

  process.kill(proc.child.pid!, 'SIGINT');
  assert.equal(await proc.exited, 0);
  assert.ok(existsSync(join(data, 'store', 'commitlog')), 'data under the chosen folder');
  assert.ok(!existsSync(join(data, 'store', 'abort')), 'clean shutdown removed the abort file');

  const again = start();
  await waitFor(() => again.stdout().includes('Ctrl-C stops it.'), 'second boot', 20_000);
  const broker2 = /Broker\s+(\S+)/.exec(again.stdout())![1]!;
  const res = await pull(c, broker2, { topic: 'TopicTest', queueId: Number(sent.extFields!.queueId) });
  assert.deepEqual(
    decodeRecords(res.body!).map((m) => m.body.toString()),
    ['Hello RocketMQ 0'],
  );
  process.kill(again.child.pid!, 'SIGTERM');
  assert.equal(await again.exited, 0);
});
