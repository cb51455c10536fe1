import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getLogger } from '../../../src/common/logger.js';
import {
  RebalanceImpl,
  type PullRequest,
  type RebalanceHost,
} from '../../../src/client/consumer/rebalance-impl.js';
import { allocateMessageQueueAveragely } from '../../../src/client/consumer/allocate-strategy.js';
import { buildSubscriptionData } from '../../../src/protocol/heartbeat.js';
import type { MQClientInstance } from '../../../src/client/client-instance.js';
import { mqKey, type MessageQueue } from '../../../src/client/message/message-queue.js';

const log = getLogger('test.rebalance-lock');
const queues: MessageQueue[] = [0, 1, 2].map((queueId) => ({ topic: 'T', brokerName: 'b', queueId }));

/** One consumer of the group; the broker grants the locks `free` allows. */
function setup(free: (mq: MessageQueue) => boolean, removable: () => boolean = () => true) {
  const lockRequests: MessageQueue[][] = [];
  const unlockRequests: MessageQueue[][] = [];
  const instance = {
    clientId: 'me',
    findConsumerIdList: async () => ['me'],
    updateTopicRouteInfoFromNameServer: async () => true,
    findBrokerAddressInSubscribe: () => ({ addr: 'b:1', slave: false }),
    api: {
      lockBatchMQ: async (_addr: string, _group: string, _cid: string, mqs: MessageQueue[]) => {
        lockRequests.push(mqs);
        return mqs.filter(free);
      },
      unlockBatchMQ: async (_addr: string, _group: string, _cid: string, mqs: MessageQueue[]) => {
        unlockRequests.push(mqs);
      },
    },
  } as unknown as MQClientInstance;
  const dispatched: PullRequest[] = [];
  const removed: string[] = [];
  const host: RebalanceHost = {
    consumeType: 'CONSUME_PASSIVELY',
    lockQueues: true,
    computePullFromWhere: async () => 0,
    removeUnnecessaryMessageQueue: async (mq) => {
      if (!removable()) return false;
      removed.push(mqKey(mq));
      return true;
    },
    removeDirtyOffset: () => {},
    dispatchPullRequests: (r) => dispatched.push(...r),
  };
  const rebalance = new RebalanceImpl(instance, 'G', 'CLUSTERING', allocateMessageQueueAveragely, host, log);
  rebalance.subscriptionInner.set('T', buildSubscriptionData('T', '*'));
  rebalance.topicSubscribeInfoTable.set('T', queues);
  return { rebalance, lockRequests, unlockRequests, dispatched, removed };
}

describe('RebalanceImpl with queue locks (orderly consumers)', () => {
  test('a queue is taken only once its lock is held; the others count as lock failures', async () => {
    let held = new Set([0, 2]);
    const r = setup((mq) => held.has(mq.queueId));
    await r.rebalance.doRebalance();
    assert.deepEqual(r.lockRequests, [queues], 'one LOCK_BATCH_MQ for the broker');
    assert.deepEqual(
      r.dispatched.map((p) => p.mq.queueId),
      [0, 2],
    );
    assert.ok(r.dispatched.every((p) => p.pq.locked && !p.pq.isLockExpired()));
    assert.equal(r.rebalance.lockFailures, 1);

    held = new Set([0, 1, 2]);
    await r.rebalance.doRebalance();
    assert.deepEqual(r.lockRequests[1], [queues[1]], 'only the missing queue is asked for');
    assert.deepEqual(
      r.dispatched.map((p) => p.mq.queueId),
      [0, 2, 1],
    );
    assert.equal(r.rebalance.lockFailures, 0);
  });

  test('lockAll renews held queues and marks those the broker refused as unlocked', async () => {
    let held = new Set([0, 1, 2]);
    const r = setup((mq) => held.has(mq.queueId));
    await r.rebalance.doRebalance();
    held = new Set([0, 2]);
    await r.rebalance.lockAll();
    const pqOf = (id: number) => r.dispatched.find((p) => p.mq.queueId === id)!.pq;
    assert.equal(pqOf(1).locked, false);
    assert.equal(pqOf(0).locked, true);
    await r.rebalance.unlock([queues[0]!], false);
    assert.deepEqual(r.unlockRequests, [[queues[0]]]);
    assert.equal(pqOf(0).locked, false);
  });

  test('a queue whose removal was refused is tried again next run, and re-added if wanted again', async () => {
    let canRemove = false;
    const r = setup(
      () => true,
      () => canRemove,
    );
    await r.rebalance.doRebalance();
    r.rebalance.topicSubscribeInfoTable.set('T', queues.slice(0, 2));
    await r.rebalance.doRebalance();
    assert.deepEqual(r.removed, [], 'refused: still consuming');
    assert.equal(r.rebalance.assignedQueues().length, 3, 'kept until it can go');
    const first = r.dispatched.find((p) => p.mq.queueId === 2)!.pq;
    assert.equal(first.dropped, true);
    // Wanted again before it could go: it goes now and comes back with a fresh ProcessQueue.
    r.rebalance.topicSubscribeInfoTable.set('T', queues);
    canRemove = true;
    await r.rebalance.doRebalance();
    assert.deepEqual(r.removed, ['T@b@2']);
    const again = r.dispatched.filter((p) => p.mq.queueId === 2);
    assert.equal(again.length, 2);
    assert.equal(again[1]!.pq.dropped, false);
    assert.equal(r.rebalance.assignedQueues().length, 3);
  });
});
