import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../helpers/wait.js';
import { spawnChild } from '../helpers/child.js';
import { startCluster } from './helpers/cluster.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const HEX32 = '[0-9A-F]{32}';
const SEND_RESULT = new RegExp(
  `^SendResult \\[sendStatus=SEND_OK, msgId=${HEX32}, offsetMsgId=${HEX32}, ` +
    `messageQueue=MessageQueue \\[topic=TopicTest, brokerName=broker-a, queueId=[0-3]\\], queueOffset=\\d+\\]$`,
);
const RECEIVED = new RegExp(
  '^ConsumeMessageThread_\\d+ Receive New Messages: \\[MessageExt \\[queueId=[0-3], storeSize=\\d+, ' +
    'queueOffset=\\d+, sysFlag=0, bornTimestamp=\\d+, bornHost=/[\\d.]+:\\d+, storeTimestamp=\\d+, ' +
    `storeHost=/127\\.0\\.0\\.1:\\d+, msgId=7F000001[0-9A-F]{24}, commitLogOffset=\\d+, bodyCRC=\\d+, reconsumeTimes=0, ` +
    "preparedTransactionOffset=0, toString\\(\\)=Message\\{topic='TopicTest', flag=0, properties=\\{(.*)\\}, " +
    "body=\\[([-\\d, ]+)\\], transactionId='null'\\}\\]\\] $",
);

function runExample(name: string, namesrvAddr: string): ReturnType<typeof spawnChild> {
  return spawnChild(
    process.execPath,
    ['--import', 'tsx', `examples/quickstart/${name}.ts`],
    { NAMESRV_ADDR: namesrvAddr },
    root,
  );
}

describe('quickstart examples', async () => {
  const cluster = await startCluster();

  test('producer.ts sends 1000 messages and prints a SendResult line for each', async () => {
    const p = runExample('producer', cluster.namesrvAddr);
    assert.equal(await p.exited, 0, p.stderr());
    const lines = p.stdout().trimEnd().split('\n');
    assert.equal(lines.length, 1000);
    for (const line of lines) assert.match(line, SEND_RESULT);
    const offsets = new Set(
      lines.map((l) => /queueId=(\d)\], queueOffset=(\d+)/.exec(l)!.slice(1).join(':')),
    );
    assert.equal(offsets.size, 1000, 'every message in its own place');
  });

  test('consumer.ts prints "Receive New Messages" lines for all of them and stops on SIGTERM', async () => {
    const c = runExample('consumer', cluster.namesrvAddr);
    const bodies = (): Set<string> => {
      const out = new Set<string>();
      for (const line of c.stdout().split('\n')) {
        const m = RECEIVED.exec(line);
        if (m) out.add(Buffer.from(m[2]!.split(', ').map(Number)).toString());
      }
      return out;
    };
    await waitFor(
      () => bodies().size === 1000 || c.child.exitCode !== null,
      '1000 received messages',
      60_000,
    );
    const lines = c.stdout().split('\n');
    assert.equal(lines[0], 'Consumer Started.');
    const received = lines.filter((l) => l.includes('Receive New Messages'));
    for (const line of received) assert.match(line, RECEIVED);
    assert.deepEqual(bodies(), new Set(Array.from({ length: 1000 }, (_, i) => `Hello RocketMQ ${i}`)));
    assert.match(received[0]!, /properties=\{.*TAGS=TagA.*\}/);
    assert.match(received[0]!, /UNIQ_KEY=[0-9A-F]{32}/);
    assert.match(received[0]!, /MIN_OFFSET=0, MAX_OFFSET=\d+/);

    c.child.kill('SIGTERM');
    assert.equal(await c.exited, 0, c.stderr());
    const committed = await cluster.admin.queryConsumerOffsets(
      'please_rename_unique_group_name_4',
      'TopicTest',
    );
    assert.equal(
      committed.reduce((s, [, o]) => s + o, 0),
      1000,
      'offsets committed at shutdown',
    );
  });
});
