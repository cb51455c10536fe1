import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../../helpers/wait.js';
import {
  ConsumeMessageOrderlyService,
  ConsumeOrderlyStatus,
  type MessageListenerOrderly,
  type OrderlyServiceHost,
} from '../../../src/client/consumer/consume-orderly-service.js';
import { ProcessQueue } from '../../../src/client/consumer/process-queue.js';
import { MemoryOffsetTable, type OffsetStore } from '../../../src/client/consumer/offset-store.js';
import type { MessageExt } from '../../../src/client/message/message-ext.js';
import type { MessageQueue } from '../../../src/client/message/message-queue.js';
import type { MessageModel } from '../../../src/protocol/heartbeat.js';
import { getLogger } from '../../../src/common/logger.js';

const log = getLogger('test.consume-orderly');

class MemoryStore extends MemoryOffsetTable implements OffsetStore {
  async load(): Promise<void> {}
  async readOffsetFromStore(): Promise<number> {
    return -1;
  }
  async persistAll(): Promise<void> {}
  async persist(): Promise<void> {}
}

function queue(queueId: number): MessageQueue {
  return { topic: 'T', brokerName: 'b', queueId };
}

function msgs(mq: MessageQueue, n: number, from = 0): MessageExt[] {
  return Array.from(
    { length: n },
    (_, i) =>
      ({
        topic: mq.topic,
        queueId: mq.queueId,
        queueOffset: from + i,
        body: Buffer.from(`${mq.queueId}:${from + i}`),
        reconsumeTimes: 0,
        properties: new Map<string, string>(),
        msgId: `id-${mq.queueId}-${from + i}`,
      }) as unknown as MessageExt,
  );
}

interface Setup {
  service: ConsumeMessageOrderlyService;
  store: MemoryStore;
  sentBack: [MessageExt, number][];
  lockCalls: MessageQueue[];
  /** A locked ProcessQueue holding `n` messages of `mq`, submitted. */
  feed(mq: MessageQueue, n: number, pq?: ProcessQueue): ProcessQueue;
}

function setup(
  listener: MessageListenerOrderly,
  opts: {
    threads?: number;
    batch?: number;
    max?: number;
    model?: MessageModel;
    sendBack?: (m: MessageExt) => boolean;
    lock?: (mq: MessageQueue) => boolean;
  } = {},
): Setup {
  const store = new MemoryStore();
  const sentBack: [MessageExt, number][] = [];
  const lockCalls: MessageQueue[] = [];
  const pqs = new Map<number, ProcessQueue>();
  const host: OrderlyServiceHost = {
    group: 'G',
    messageModel: opts.model ?? 'CLUSTERING',
    offsetStore: store,
    sendMessageBack: async (m, delayLevel) => {
      const ok = opts.sendBack?.(m) ?? true;
      if (ok) sentBack.push([m, delayLevel]);
      return ok;
    },
    lockQueue: async (mq) => {
      lockCalls.push(mq);
      const ok = opts.lock?.(mq) ?? true;
      const pq = pqs.get(mq.queueId);
      if (ok && pq) {
        pq.locked = true;
        pq.lastLockTimestamp = Date.now();
      }
      return ok;
    },
    lockAll: async () => {},
  };
  const service = new ConsumeMessageOrderlyService(
    host,
    listener,
    {
      consumeThreadMax: opts.threads ?? 20,
      consumeMessageBatchMaxSize: opts.batch ?? 1,
      suspendCurrentQueueTimeMillis: 10,
      maxReconsumeTimes: opts.max ?? 16,
    },
    log,
  );
  const feed = (mq: MessageQueue, n: number, given?: ProcessQueue): ProcessQueue => {
    const pq = given ?? pqs.get(mq.queueId) ?? new ProcessQueue();
    if (!given && !pqs.has(mq.queueId)) {
      pq.locked = true;
      pq.lastLockTimestamp = Date.now();
    }
    pqs.set(mq.queueId, pq);
    const from = pq.queueOffsetMax + (pq.msgCount > 0 || pq.queueOffsetMax > 0 ? 1 : 0);
    const batch = msgs(mq, n, from);
    pq.putMessages(batch);
    service.submit(batch, pq, mq);
    return pq;
  };
  return { service, store, sentBack, lockCalls, feed };
}

const body = (m: MessageExt): string => m.body.toString();

describe('ConsumeMessageOrderlyService', () => {
  test('each queue in order, one batch at a time, offsets committed after each batch', async () => {
    const seen = new Map<number, string[]>();
    const inCall = new Set<number>();
    let overlap = false;
    const q0 = queue(0);
    const q1 = queue(1);
    const { service, store, feed } = setup(
      async (batch, ctx) => {
        const id = ctx.messageQueue.queueId;
        if (inCall.has(id)) overlap = true;
        inCall.add(id);
        await new Promise((r) => setImmediate(r));
        seen.set(id, [...(seen.get(id) ?? []), ...batch.map(body)]);
        inCall.delete(id);
        return ConsumeOrderlyStatus.SUCCESS;
      },
      { batch: 3 },
    );
    feed(q0, 10);
    feed(q1, 5);
    feed(q0, 4); // arrives while the queue is being consumed
    await waitFor(
      () => store.readOffsetFromMemory(q0) === 14 && store.readOffsetFromMemory(q1) === 5,
      'both queues consumed',
    );
    assert.equal(overlap, false, 'never two calls for one queue at once');
    assert.deepEqual(
      seen.get(0),
      Array.from({ length: 14 }, (_, i) => `0:${i}`),
    );
    assert.deepEqual(
      seen.get(1),
      Array.from({ length: 5 }, (_, i) => `1:${i}`),
    );
    await service.shutdown(0);
  });

  test('at most consumeThreadMax queues are consumed at once', async () => {
    let running = 0;
    let peak = 0;
    const gates: (() => void)[] = [];
    const { service, store, feed } = setup(
      async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise<void>((r) => gates.push(r));
        running--;
        return ConsumeOrderlyStatus.SUCCESS;
      },
      { threads: 2 },
    );
    const queues = [0, 1, 2, 3].map(queue);
    for (const q of queues) feed(q, 2);
    while (!queues.every((q) => store.readOffsetFromMemory(q) === 2)) {
      await waitFor(() => gates.length > 0, 'a waiting call');
      assert.ok(running <= 2);
      gates.shift()!();
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(peak, 2);
    await service.shutdown(0);
  });

  test('SUSPEND retries the same messages with reconsumeTimes + 1 before anything after them', async () => {
    const seen: [string, number][] = [];
    const q = queue(0);
    const { service, store, feed } = setup((batch) => {
      const m = batch[0]!;
      seen.push([body(m), m.reconsumeTimes]);
      if (body(m) === '0:1' && m.reconsumeTimes < 2)
        return ConsumeOrderlyStatus.SUSPEND_CURRENT_QUEUE_A_MOMENT;
      if (body(m) === '0:2' && m.reconsumeTimes === 0) throw new Error('boom');
      return ConsumeOrderlyStatus.SUCCESS;
    });
    feed(q, 4);
    await waitFor(() => store.readOffsetFromMemory(q) === 4, 'all consumed');
    assert.deepEqual(seen, [
      ['0:0', 0],
      ['0:1', 0],
      ['0:1', 1],
      ['0:1', 2],
      ['0:2', 0],
      ['0:2', 1],
      ['0:3', 0],
    ]);
    await service.shutdown(0);
  });

  test('the offset stays before a suspended message', async () => {
    let allow = false;
    const q = queue(0);
    const { service, store, feed } = setup((batch) =>
      body(batch[0]!) === '0:1' && !allow
        ? ConsumeOrderlyStatus.SUSPEND_CURRENT_QUEUE_A_MOMENT
        : ConsumeOrderlyStatus.SUCCESS,
    );
    feed(q, 3);
    await waitFor(() => store.readOffsetFromMemory(q) === 1, 'first message committed');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(store.readOffsetFromMemory(q), 1, 'nothing past the suspended message');
    allow = true;
    await waitFor(() => store.readOffsetFromMemory(q) === 3, 'the rest after it');
    await service.shutdown(0);
  });

  test('past maxReconsumeTimes a message goes to the dead-letter queue and the queue moves on', async () => {
    const seen: [string, number][] = [];
    const q = queue(0);
    const { service, store, sentBack, feed } = setup(
      (batch) => {
        const m = batch[0]!;
        seen.push([body(m), m.reconsumeTimes]);
        return body(m) === '0:0'
          ? ConsumeOrderlyStatus.SUSPEND_CURRENT_QUEUE_A_MOMENT
          : ConsumeOrderlyStatus.SUCCESS;
      },
      { max: 2 },
    );
    feed(q, 2);
    await waitFor(() => store.readOffsetFromMemory(q) === 2, 'the bad message left the queue');
    assert.deepEqual(seen, [
      ['0:0', 0],
      ['0:0', 1],
      ['0:0', 2],
      ['0:1', 0],
    ]);
    assert.equal(sentBack.length, 1);
    assert.equal(body(sentBack[0]![0]), '0:0');
    assert.equal(sentBack[0]![1], -1, 'sent back with a negative level: straight to the DLQ');
    await service.shutdown(0);
  });

  test('if the dead-letter send fails the message is retried again, the queue still held', async () => {
    let refuse = 2;
    const seen: number[] = [];
    const q = queue(0);
    const { service, store, sentBack, feed } = setup(
      (batch) => {
        seen.push(batch[0]!.reconsumeTimes);
        return ConsumeOrderlyStatus.SUSPEND_CURRENT_QUEUE_A_MOMENT;
      },
      { max: 1, sendBack: () => refuse-- <= 0 },
    );
    feed(q, 1);
    await waitFor(() => store.readOffsetFromMemory(q) === 1, 'dead-lettered in the end');
    assert.deepEqual(seen, [0, 1, 2, 3]);
    assert.equal(sentBack.length, 1);
    await service.shutdown(0);
  });

  test('a batch with one dead letter and one retry commits nothing past the retry', async () => {
    const q = queue(0);
    let round = 0;
    const { service, store, sentBack, feed } = setup(
      (batch) => {
        round++;
        if (round === 1) {
          // Make the first message look retried enough already.
          batch[0]!.reconsumeTimes = 5;
          return ConsumeOrderlyStatus.SUSPEND_CURRENT_QUEUE_A_MOMENT;
        }
        assert.deepEqual(batch.map(body), ['0:1'], 'only the message that went back');
        return ConsumeOrderlyStatus.SUCCESS;
      },
      { batch: 2, max: 3 },
    );
    feed(q, 2);
    await waitFor(() => store.readOffsetFromMemory(q) === 2, 'done');
    assert.deepEqual(
      sentBack.map(([m]) => body(m)),
      ['0:0'],
    );
    await service.shutdown(0);
  });

  test('CLUSTERING: an unlocked queue waits for its lock; BROADCASTING needs none', async () => {
    const q = queue(0);
    let grant = false;
    const seen: string[] = [];
    const c = setup(
      (batch) => {
        seen.push(body(batch[0]!));
        return ConsumeOrderlyStatus.SUCCESS;
      },
      { lock: () => grant },
    );
    const pq = new ProcessQueue();
    c.feed(q, 1, pq);
    await waitFor(() => c.lockCalls.length >= 1, 'a lock attempt');
    assert.deepEqual(seen, [], 'not consumed without the lock');
    grant = true;
    // The refused attempt backs off 3 s before the next; take the lock as the rebalance would.
    pq.locked = true;
    pq.lastLockTimestamp = Date.now();
    await c.service.shutdown(0);

    const b = setup(() => ConsumeOrderlyStatus.SUCCESS, { model: 'BROADCASTING' });
    b.feed(q, 2, new ProcessQueue());
    await waitFor(() => b.store.readOffsetFromMemory(q) === 2, 'consumed without a lock');
    assert.deepEqual(b.lockCalls, []);
    await b.service.shutdown(0);
  });

  test('an expired lock is taken again before the next batch', async () => {
    const q = queue(0);
    const { service, store, lockCalls, feed } = setup(() => ConsumeOrderlyStatus.SUCCESS);
    const pq = new ProcessQueue();
    pq.locked = true;
    pq.lastLockTimestamp = Date.now() - 31_000;
    feed(q, 1, pq);
    await waitFor(() => store.readOffsetFromMemory(q) === 1, 'consumed after relocking');
    assert.equal(lockCalls.length, 1);
    await service.shutdown(0);
  });

  test('waitIdle: a dropped queue finishes (and commits) the batch in progress, then nothing more', async () => {
    const q = queue(0);
    let release!: () => void;
    const seen: string[] = [];
    const { service, store, feed } = setup(async (batch) => {
      seen.push(body(batch[0]!));
      await new Promise<void>((r) => (release = r));
      return ConsumeOrderlyStatus.SUCCESS;
    });
    const pq = feed(q, 3);
    await waitFor(() => seen.length === 1, 'the first call');
    assert.equal(service.isConsuming(q), true);
    pq.dropped = true;
    assert.equal(await service.waitIdle(q, 10), false, 'still consuming');
    const idle = service.waitIdle(q, 5000);
    release();
    assert.equal(await idle, true);
    assert.equal(service.isConsuming(q), false);
    assert.equal(store.readOffsetFromMemory(q), 1, 'the batch in progress counts');
    assert.deepEqual(seen, ['0:0'], 'nothing after the drop');
    await service.shutdown(0);
  });
});
