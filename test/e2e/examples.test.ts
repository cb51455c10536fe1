import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { spawnChild } from '../helpers/child.js';
import { ONE_SECOND_LEVELS, startCluster } from './helpers/cluster.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Runs an example to its end and returns its stdout lines. */
async function runExample(path: string, namesrvAddr: string): Promise<string[]> {
  const p = spawnChild(
    process.execPath,
    ['--import', 'tsx', `examples/${path}`],
    { NAMESRV_ADDR: namesrvAddr },
    root,
  );
  assert.equal(await p.exited, 0, p.stderr());
  return p.stdout().trimEnd().split('\n');
}

describe('message type examples', async () => {
  // Fast delay levels and transaction checks, so each example ends within seconds.
  const cluster = await startCluster({
    props: { ...ONE_SECOND_LEVELS, transactionCheckInterval: '500', transactionTimeOut: '1000' },
  });

  test('delay/scheduled-message.ts: 10 delayed messages arrive, each no earlier than its level', async () => {
    const lines = await runExample('delay/scheduled-message.ts', cluster.namesrvAddr);
    const received = lines.flatMap((l) => /^Receive message\[msgId=\w+\] (\d+)ms later$/.exec(l) ?? []);
    assert.equal(received.length / 2, 10, lines.join('\n'));
    for (let i = 1; i < received.length; i += 2) assert.ok(Number(received[i]) >= 1000, received[i]);
  });

  test('retry/retry-consumer.ts: a retried message recovers, another ends in the DLQ', async () => {
    const lines = await runExample('retry/retry-consumer.ts', cluster.namesrvAddr);
    const got = lines.filter((l) => l.startsWith('Receive '));
    const times = (body: string) =>
      got.filter((l) => l.startsWith(`Receive "${body}"`)).map((l) => /reconsumeTimes=(\d+)/.exec(l)![1]);
    assert.deepEqual(times('recovers'), ['0', '1']);
    assert.deepEqual(times('always fails'), ['0', '1', '2']);
    assert.ok(
      got.every((l) => l.includes('topic=TopicRetry ')),
      'retries show the original topic',
    );
    assert.ok(lines.includes('Dead letter in %DLQ%ExampleRetryConsumer: "always fails" reconsumeTimes=3'));
  });

  test('ordered/ordered-messages.ts: every order consumed in its step sequence', async () => {
    const lines = await runExample('ordered/ordered-messages.ts', cluster.namesrvAddr);
    const consumed = lines.flatMap((l) => {
      const m = /^Consume queue \d+: order (\d+) (\w+)$/.exec(l);
      return m ? [[m[1]!, m[2]!] as const] : [];
    });
    assert.equal(consumed.length, 20);
    for (const order of ['1001', '1002', '1003', '1004', '1005']) {
      assert.deepEqual(
        consumed.filter(([o]) => o === order).map(([, step]) => step),
        ['create', 'pay', 'ship', 'done'],
      );
    }
  });

  test('transaction/transaction-producer.ts: commit at once, rollback never, unknown after the check', async () => {
    const lines = await runExample('transaction/transaction-producer.ts', cluster.namesrvAddr);
    const received = lines.filter((l) => l.startsWith('Receive '));
    assert.deepEqual(received.map((l) => /^Receive "([^"]+)"/.exec(l)![1]).sort(), [
      'transaction that ends COMMIT_MESSAGE',
      'transaction that ends UNKNOW',
    ]);
    assert.ok(lines.includes('Check back for "transaction that ends UNKNOW": COMMIT_MESSAGE'));
  });
});
