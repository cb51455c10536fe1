/**
 * ConsumeQueue cleanup an admin asks for (upstream DefaultMessageStore.cleanExpiredConsumerQueue and
 * cleanUnusedTopic), next to the periodic pass of clean-service.ts, which only trims files and never
 * drops a whole queue.
 *
 * - Expired queues: a queue whose last unit's record ends at or below the CommitLog's minimum
 *   offset points only at deleted data; it is destroyed (files and directory) and dropped from the
 *   table. Every other queue gets its minimum moved up to the CommitLog minimum. The CommitLog
 *   keeps the dropped queue's next offset, so a later message continues the old numbering and
 *   consumers' committed offsets stay meaningful (upstream restarts the queue at 0, which it does
 *   here too only after a restart, when queue offsets are rebuilt from the queues on disk).
 * - Unused topics: the queues of topics the broker no longer configures; the broker passes its
 *   topic names, the deletion itself is MessageStore.deleteTopics.
 * SCHEDULE_TOPIC_XXXX is never dropped as expired (as upstream); the transaction topics and LMQ
 * queues are never dropped as unused, since the broker does not keep them in its topic config.
 * Callers: MessageStore only.
 */
import { join } from 'node:path';
import type { Logger } from '../../common/logger.js';
import { SystemTopic } from '../../common/message/message-const.js';
import type { StoreFs } from '../io/store-fs.js';
import type { ConsumeQueueStore } from '../consume-queue/consume-queue-store.js';

/** Upstream MixAll.LMQ_PREFIX: light message queues live in the store, not in the topic config. */
const LMQ_PREFIX = '%LMQ%';

/** Topics whose queues hold broker state rather than a configured topic's messages. */
const KEPT_WHEN_UNUSED: ReadonlySet<string> = new Set([
  SystemTopic.SCHEDULE_TOPIC,
  SystemTopic.TRANS_HALF_TOPIC,
  SystemTopic.TRANS_OP_HALF_TOPIC,
]);

export interface ExpiredCleanResult {
  /** "topic/queueId" of every queue destroyed. */
  destroyed: string[];
  /** Topics left without any queue (their directories removed). */
  topicsRemoved: string[];
}

/**
 * Destroys every queue wholly below `commitLogMinOffset` and corrects the minimum of the others.
 * Safe against dispatch running meanwhile: a queue is taken out of the table before the first
 * await, so a unit dispatched after that creates a fresh queue instead of landing in a dying one.
 */
export async function cleanExpiredConsumeQueues(
  commitLogMinOffset: number,
  cqs: ConsumeQueueStore,
  fs: StoreFs,
  log: Logger,
): Promise<ExpiredCleanResult> {
  const result: ExpiredCleanResult = { destroyed: [], topicsRemoved: [] };
  for (const [topic, queues] of [...cqs.table]) {
    if (topic === SystemTopic.SCHEDULE_TOPIC) continue;
    for (const [queueId, cq] of [...queues]) {
      // A second cleanup running at once may have taken this queue already.
      if (cqs.table.get(topic) !== queues || queues.get(queueId) !== cq) continue;
      const maxPhy = cq.maxPhysicOffset;
      if (maxPhy < 0) {
        log.warn({ topic, queueId }, 'cleanExpiredConsumerQueue: queue has no unit yet, kept');
        continue;
      }
      // maxPhysicOffset is one past the last record, so equality means that record is gone too.
      if (maxPhy <= commitLogMinOffset) {
        queues.delete(queueId);
        // Units still in memory are written first, so the store's write pass finds nothing left
        // to write and never recreates the files destroyed next.
        await cq.writeTail();
        await cq.destroy();
        result.destroyed.push(`${topic}/${queueId}`);
        log.info(
          { topic, queueId, commitLogMinOffset, maxPhysicOffset: maxPhy },
          'cleanExpiredConsumerQueue: queue destroyed',
        );
      } else {
        await cq.correctMinOffset(commitLogMinOffset);
      }
    }
    if (queues.size === 0 && cqs.table.get(topic) === queues) {
      cqs.table.delete(topic);
      result.topicsRemoved.push(topic);
      await removeEmptyTopicDir(cqs, fs, topic);
      log.info({ topic }, 'cleanExpiredConsumerQueue: topic has no queue left');
    }
  }
  return result;
}

/** StoreFs.rmdir removes recursively: only a directory still empty and still unused goes. */
async function removeEmptyTopicDir(cqs: ConsumeQueueStore, fs: StoreFs, topic: string): Promise<void> {
  const dir = join(cqs.rootDir, topic);
  const left = await fs.readdir(dir).catch(() => undefined);
  if (left && left.length === 0 && !cqs.table.has(topic)) await fs.rmdir(dir).catch(() => undefined);
}

/** The topics of `stored` that are neither in `configured` nor kept as broker state. */
export function unusedTopics(stored: Iterable<string>, configured: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const t of stored) {
    if (configured.has(t) || KEPT_WHEN_UNUSED.has(t) || t.startsWith(LMQ_PREFIX)) continue;
    out.push(t);
  }
  return out;
}
