/**
 * Short runs of each mqbench tool against an in-process cluster: they send or receive what they
 * are told, print upstream-style report lines and end with one JSON line. Bounded by message
 * counts (and one short duration); nothing here asserts a speed.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runTool } from '../../src/cli/mqbench/main.js';
import { createTopic, startCluster, type TestCluster } from '../e2e/helpers/cluster.js';

describe('mqbench against an in-process cluster', async () => {
  const cluster: TestCluster = await startCluster();
  for (const t of ['BenchA', 'BenchB', 'BenchBatch', 'BenchTx']) await createTopic(cluster, t);

  async function run(tool: 'producer' | 'consumer' | 'tproducer' | 'batchproducer', args: string[]) {
    const lines: string[] = [];
    const figures = (await runTool(tool, ['-n', cluster.namesrvAddr, ...args], (l) =>
      lines.push(l),
    )) as Record<string, unknown>;
    const last = JSON.parse(lines.at(-1)!) as Record<string, unknown>;
    assert.deepEqual(last, figures, 'the last line is the JSON of the figures');
    return { lines, figures };
  }

  test('producer: async with pipelining, then sync with auto-batching; the consumer gets them all', async () => {
    const a = await run('producer', [
      '-t',
      'BenchA',
      '-q',
      '300',
      '-w',
      '16',
      '-y',
      'true',
      '-s',
      '64',
      '-ri',
      '100',
    ]);
    assert.equal(a.figures.sendOk, 300);
    assert.equal(a.figures.sendFailed, 0);
    assert.ok(a.lines.some((l) => l.startsWith('topic: BenchA, threadCount: 16, messageSize: 64')));
    assert.ok(
      a.lines.some((l) => l.includes('pipelining: on, up to 16 sends in flight | auto-batching: off')),
    );
    assert.match(
      a.lines.at(-2)!,
      /^\[Complete\] Send Total: 300 \| Send TPS: \d+ \| Max RT\(ms\): \d+ \| Average RT\(ms\): +[\d.]+ \| Send Failed: 0 \| Response Failed: 0$/,
    );

    const b = await run('producer', [
      '-t',
      'BenchA',
      '-q',
      '200',
      '-w',
      '8',
      '-ab',
      '16',
      '-k',
      'true',
      '-l',
      '2',
      '-p',
      '20',
    ]);
    assert.equal(b.figures.sendOk, 200);
    assert.equal(b.figures.autoBatch, 16);
    assert.ok(b.lines.some((l) => l.includes('auto-batching: on, up to 16 messages per SEND_BATCH_MESSAGE')));

    const c = await run('consumer', [
      '-t',
      'BenchA',
      '-g',
      'bench_group_a',
      '-q',
      '500',
      '-cf',
      'CONSUME_FROM_FIRST_OFFSET',
      '-ri',
      '100',
    ]);
    assert.equal(c.figures.consumed, 500);
    assert.equal(c.figures.failed, 0);
    assert.ok((c.figures.b2cMaxMs as number) >= 0);
    assert.match(
      c.lines.at(-2)!,
      /^\[Complete\] Consume Total: 500 \| Consume TPS: \d+ \| AVG\(B2C\) RT\(ms\): +[\d.]+ \| AVG\(S2C\) RT\(ms\): +[\d.]+ \| MAX\(B2C\) RT\(ms\): \d+ \| MAX\(S2C\) RT\(ms\): \d+ \| Consume Fail: 0$/,
    );
  });

  test('producer stops after a duration and reports every -ri ms meanwhile', async () => {
    const r = await run('producer', [
      '-t',
      'BenchB',
      '-q',
      '600ms',
      '-w',
      '4',
      '-y',
      'true',
      '-s',
      '32',
      '-ri',
      '100',
    ]);
    const reports = r.lines.filter((l) => l.startsWith('Current Time: '));
    assert.ok(reports.length >= 1, r.lines.join('\n'));
    assert.match(
      reports[0]!,
      /^Current Time: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \| Send TPS: \d+ \| Max RT\(ms\): \d+ \| Average RT\(ms\): +[\d.]+ \| Send Failed: \d+ \| Response Failed: \d+$/,
    );
    assert.ok((r.figures.sendOk as number) > 0);
  });

  test('batchproducer sends batches of -b messages', async () => {
    const r = await run('batchproducer', [
      '-t',
      'BenchBatch',
      '-q',
      '160',
      '-b',
      '16',
      '-w',
      '2',
      '-s',
      '50',
    ]);
    assert.equal(r.figures.messagesOk, 160);
    assert.equal(r.figures.requestsOk, 10);
    assert.match(r.lines.at(-2)!, /^\[Complete\] Send Total: 10 \| Send TPS: \d+ \| Send MPS: \d+ \| /);
  });

  test('tproducer commits its transactions; the consumer sees the committed ones', async () => {
    const r = await run('tproducer', ['-t', 'BenchTx', '-q', '20', '-w', '4', '-s', '100', '-sr', '0']);
    assert.equal(r.figures.sendOk, 20);
    assert.equal(r.figures.unexpectedChecks, 0);
    const c = await run('consumer', [
      '-t',
      'BenchTx',
      '-g',
      'bench_group_tx',
      '-q',
      '20',
      '-cf',
      'CONSUME_FROM_FIRST_OFFSET',
    ]);
    assert.equal(c.figures.consumed, 20);
  });

  test('bad options are refused before anything starts', async () => {
    await assert.rejects(
      runTool('producer', ['-w', 'many'], () => {}),
      /not an integer/,
    );
    await assert.rejects(
      runTool('consumer', ['-zz'], () => {}),
      /unrecognized option/,
    );
    const lines: string[] = [];
    assert.equal(await runTool('consumer', ['-h'], (l) => lines.push(l)), undefined);
    assert.match(lines[0]!, /^usage: mqbench consumer/);
  });
});
