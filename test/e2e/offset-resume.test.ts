import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../helpers/wait.js';
import { createTopic, startCluster, track } from './helpers/cluster.js';
import { mqKey } from '../../src/client/message/message-queue.js';
import {
  ConsumeConcurrentlyStatus,
  Message,
  Producer,
  PushConsumer,
  type MessageExt,
} from '../../src/index.js';

describe('committed offsets', async () => {
  const cluster = await startCluster();

  test('a consumer stopped mid-stream and restarted resumes from its committed offset', async () => {
    const topic = 'E2E_Resume';
    const group = 'CG_resume';
    await createTopic(cluster, topic, 4);
    const producer = track(new Producer({ producerGroup: 'PG_resume', namesrvAddr: cluster.namesrvAddr }));
    await producer.start();
    const sent = new Set<string>();
    for (let i = 0; i < 1000; i++) sent.add((await producer.send(new Message(topic, `r${i}`))).msgId);
    await producer.shutdown();

    // First run: after 300 deliveries every further listener call blocks until the consumer has
    // been shut down, so it stops with work in flight that must not count as consumed.
    const first: MessageExt[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const options = {
      consumerGroup: group,
      namesrvAddr: cluster.namesrvAddr,
      consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET' as const,
      consumeThreadMax: 4,
    };
    const c1 = track(new PushConsumer({ ...options, instanceName: 'resume-1' }));
    c1.subscribe(topic, '*');
    c1.registerMessageListener(async (msgs) => {
      first.push(...msgs);
      if (first.length > 300) await gate;
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    await c1.start();
    await waitFor(() => first.length > 300, 'the first consumer blocked mid-stream');
    await c1.shutdown();
    release();

    const committed = new Map(
      (await cluster.admin.queryConsumerOffsets(group, topic)).map(([mq, o]) => [mqKey(mq), o]),
    );
    const committedTotal = [...committed.values()].reduce((s, o) => s + Math.max(o, 0), 0);
    // Below 300: a queue's commit stops at its oldest message not yet consumed.
    assert.ok(committedTotal < 1000, `committed ${committedTotal} of 1000`);
    const keyOf = (m: MessageExt): string => mqKey({ topic, brokerName: m.brokerName, queueId: m.queueId });
    const belowCommit = (m: MessageExt): boolean => m.queueOffset < (committed.get(keyOf(m)) ?? 0);

    // Second run, same group: starts exactly at the committed offsets.
    const second: MessageExt[] = [];
    const c2 = track(new PushConsumer({ ...options, instanceName: 'resume-2' }));
    c2.subscribe(topic, '*');
    c2.registerMessageListener((msgs) => {
      second.push(...msgs);
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    await c2.start();
    const all = (): Set<string> => new Set([...first, ...second].map((m) => m.msgId));
    // The second run owes everything from the committed offsets on (some of it the first run
    // consumed too, after its last commit).
    const owed = 1000 - first.filter(belowCommit).length;
    await waitFor(() => new Set(second.map((m) => m.msgId)).size === owed, 'every message after the restart');
    await c2.shutdown();

    assert.deepEqual(all(), sent, 'nothing lost');
    assert.ok(!second.some(belowCommit), 'nothing below the committed offset is delivered again');
    const firstIds = new Set(first.map((m) => m.msgId));
    const duplicates = second.filter((m) => firstIds.has(m.msgId));
    assert.ok(
      duplicates.every((m) => !belowCommit(m)),
      'duplicates only after the last commit',
    );
    for (const m of first.filter(belowCommit)) assert.ok(!second.some((s) => s.msgId === m.msgId));
    const finalOffsets = await cluster.admin.queryConsumerOffsets(group, topic);
    assert.equal(
      finalOffsets.reduce((s, [, o]) => s + o, 0),
      1000,
      'the second run committed everything at shutdown',
    );
  });
});
