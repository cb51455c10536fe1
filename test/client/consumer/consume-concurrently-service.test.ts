import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { waitFor } from '../../helpers/wait.js';
import {
  ConsumeConcurrentlyStatus,
  ConsumeMessageConcurrentlyService,
  type ConsumeServiceHost,
  type MessageListenerConcurrently,
} from '../../../src/client/consumer/consume-concurrently-service.js';
import { ProcessQueue } from '../../../src/client/consumer/process-queue.js';
import { MemoryOffsetTable, type OffsetStore } from '../../../src/client/consumer/offset-store.js';
import type { MessageExt } from '../../../src/client/message/message-ext.js';
import type { MessageModel } from '../../../src/protocol/heartbeat.js';
import { getLogger } from '../../../src/common/logger.js';

const mq = { topic: 'T', brokerName: 'b', queueId: 0 };
const log = getLogger('test.consume');

class MemoryStore extends MemoryOffsetTable implements OffsetStore {
  async load(): Promise<void> {}
  async readOffsetFromStore(): Promise<number> {
    return -1;
  }
  async persistAll(): Promise<void> {}
  async persist(): Promise<void> {}
}

function msgs(n: number, from = 0): MessageExt[] {
  return Array.from(
    { length: n },
    (_, i) =>
      ({
        topic: 'T',
        queueOffset: from + i,
        body: Buffer.alloc(1),
        reconsumeTimes: 0,
        properties: new Map<string, string>(),
        msgId: `id${from + i}`,
      }) as unknown as MessageExt,
  );
}

function setup(
  listener: MessageListenerConcurrently,
  opts: { max?: number; batch?: number; model?: MessageModel; sendBack?: (m: MessageExt) => boolean } = {},
): {
  service: ConsumeMessageConcurrentlyService;
  store: MemoryStore;
  pq: ProcessQueue;
  sentBack: MessageExt[];
} {
  const store = new MemoryStore();
  const sentBack: MessageExt[] = [];
  const host: ConsumeServiceHost = {
    group: 'G',
    messageModel: opts.model ?? 'CLUSTERING',
    offsetStore: store,
    sendMessageBack: async (m) => {
      const ok = opts.sendBack?.(m) ?? true;
      if (ok) sentBack.push(m);
      return ok;
    },
  };
  const service = new ConsumeMessageConcurrentlyService(
    host,
    listener,
    { consumeThreadMax: opts.max ?? 20, consumeMessageBatchMaxSize: opts.batch ?? 1, localRetryDelayMs: 0 },
    log,
  );
  return { service, store, pq: new ProcessQueue(), sentBack };
}

describe('ConsumeMessageConcurrentlyService', () => {
  test('at most consumeThreadMax listener calls at once, in batches of consumeMessageBatchMaxSize', async () => {
    let running = 0;
    let peak = 0;
    const sizes: number[] = [];
    const slots = new Set<number>();
    const gates: (() => void)[] = [];
    const { service, store, pq } = setup(
      async (batch, ctx) => {
        running++;
        peak = Math.max(peak, running);
        sizes.push(batch.length);
        slots.add(ctx.slot);
        await new Promise<void>((r) => gates.push(r));
        running--;
        return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
      },
      { max: 3, batch: 4 },
    );
    const all = msgs(30);
    pq.putMessages(all);
    service.submit(all, pq, mq);
    while (store.readOffsetFromMemory(mq) !== 30) {
      await waitFor(() => gates.length > 0, 'a waiting call');
      assert.ok(running <= 3);
      gates.shift()!();
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(peak, 3);
    assert.deepEqual(sizes, [4, 4, 4, 4, 4, 4, 4, 2]);
    assert.deepEqual(slots, new Set([1, 2, 3]));
  });

  test('a task handed to the listener is not kept while others still wait', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const gates: (() => void)[] = [];
    const { service, pq } = setup(
      async () => {
        await new Promise<void>((r) => gates.push(r));
        return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
      },
      { max: 1 },
    );
    let first: WeakRef<MessageExt> | undefined;
    (() => {
      const all = msgs(5);
      first = new WeakRef(all[0]!);
      pq.putMessages(all);
      service.submit(all, pq, mq);
    })();
    await waitFor(() => gates.length === 1, 'the first call');
    gates.shift()!();
    await waitFor(() => gates.length === 1, 'the second call');
    // Message 0 is consumed and out of the process queue; three tasks still wait behind.
    await new Promise((r) => setImmediate(r));
    gc();
    assert.equal(first!.deref(), undefined, 'the consumed task is not held by the waiting queue');
    while (gates.length > 0 || service.backlog > 0) {
      await waitFor(() => gates.length > 0, 'next call');
      gates.shift()!();
      await new Promise((r) => setImmediate(r));
    }
  });

  test('the offset never passes a message whose listener has not returned', async () => {
    const release = new Map<number, () => void>();
    const { service, store, pq } = setup(async (batch) => {
      await new Promise<void>((r) => release.set(batch[0]!.queueOffset, r));
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    const all = msgs(3);
    pq.putMessages(all);
    service.submit(all, pq, mq);
    await waitFor(() => release.size === 3, 'three calls');
    release.get(2)!();
    release.get(1)!();
    await waitFor(() => pq.msgCount === 1, 'two done');
    assert.equal(store.readOffsetFromMemory(mq), 0, 'offset 0 still open');
    release.get(0)!();
    await waitFor(() => store.readOffsetFromMemory(mq) === 3, 'all done');
  });

  test('RECONSUME_LATER (or a throw) hands messages to the broker; refused ones come back here', async () => {
    const seen: [number, number][] = [];
    const { service, store, pq, sentBack } = setup(
      (batch) => {
        const m = batch[0]!;
        seen.push([m.queueOffset, m.reconsumeTimes]);
        if (m.queueOffset === 0) throw new Error('boom');
        if (m.queueOffset === 1 && m.reconsumeTimes === 0) return ConsumeConcurrentlyStatus.RECONSUME_LATER;
        return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
      },
      // The broker takes offset 0 back, refuses offset 1.
      { sendBack: (m) => m.queueOffset === 0 },
    );
    const all = msgs(3);
    pq.putMessages(all);
    service.submit(all, pq, mq);
    await waitFor(() => store.readOffsetFromMemory(mq) === 3, 'everything accounted for');
    assert.deepEqual(
      sentBack.map((m) => m.queueOffset),
      [0],
    );
    assert.deepEqual(
      seen.filter(([o]) => o === 1),
      [
        [1, 0],
        [1, 1],
      ],
      'consumed again locally with reconsumeTimes + 1',
    );
  });

  test('BROADCASTING drops failures; a dropped queue discards results', async () => {
    const b = setup(() => ConsumeConcurrentlyStatus.RECONSUME_LATER, { model: 'BROADCASTING' });
    const all = msgs(2);
    b.pq.putMessages(all);
    b.service.submit(all, b.pq, mq);
    await waitFor(() => b.store.readOffsetFromMemory(mq) === 2, 'dropped and acknowledged');
    assert.deepEqual(b.sentBack, []);

    let release!: () => void;
    const d = setup(async () => {
      await new Promise<void>((r) => (release = r));
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    const one = msgs(1);
    d.pq.putMessages(one);
    d.service.submit(one, d.pq, mq);
    await waitFor(() => release !== undefined, 'the call started');
    d.pq.dropped = true;
    release();
    await d.service.shutdown(1000);
    assert.equal(d.store.readOffsetFromMemory(mq), -1, 'no offset for a dropped queue');
  });
});
