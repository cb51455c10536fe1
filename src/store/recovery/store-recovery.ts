/**
 * Opening a store (upstream DefaultMessageStore.load + recover): load the checkpoint, the CommitLog
 * segments, the ConsumeQueues and the index, choose where the CommitLog must be checked from
 * (commitlog-recovery.ts), walk it from there re-dispatching every valid record, cut what is
 * past the valid end (CommitLog and queues), set the write positions and write a fresh checkpoint.
 * After a clean shutdown the walk is empty: the checkpoint holds the exact end.
 */
import type { Logger } from '../../common/logger.js';
import type { StoreFs } from '../io/store-fs.js';
import type { StoreCheckpoint } from '../checkpoint.js';
import type { CheckpointService } from '../checkpoint-service.js';
import type { CommitLog } from '../commitlog/commitlog.js';
import type { FlushService } from '../commitlog/flush-service.js';
import type { CheckOptions } from '../commitlog/record-check.js';
import type { ConsumeQueueStore } from '../consume-queue/consume-queue-store.js';
import type { ReputService } from '../dispatch/reput-service.js';
import type { IndexService } from '../index/index-service.js';
import type { CleanService } from '../cleanup/clean-service.js';
import { chooseScanStart, scanCommitLog, type RecoveryReport } from './commitlog-recovery.js';

export interface StoreParts {
  /** The `abort` file was there: the last run did not shut down cleanly. */
  abnormal: boolean;
  fs: StoreFs;
  commitLogDir: string;
  checkpoint: StoreCheckpoint;
  commitLog: CommitLog;
  consumeQueues: ConsumeQueueStore;
  index: IndexService | undefined;
  checkOpts: CheckOptions;
  reput: ReputService;
  flusher: FlushService;
  cleaner: CleanService;
  checkpointService: CheckpointService;
  log: Logger;
}

export async function recoverStore(p: StoreParts): Promise<RecoveryReport> {
  const t0 = Date.now();
  await p.fs.mkdir(p.commitLogDir);
  await p.checkpoint.open();
  await p.commitLog.files.load();
  await p.consumeQueues.load();
  await p.index?.load();
  const { start, trustedEnd } = await chooseScanStart(p.commitLog, p.checkpoint, p.abnormal);
  const t1 = Date.now();
  let validEnd = start;
  let scanned = 0;
  let problems: RecoveryReport['problems'] = [];
  if (trustedEnd === undefined) {
    // Queue units at or past the scan start are rebuilt by the scan itself.
    await p.consumeQueues.truncateFromPhy(start);
    const res = await scanCommitLog(p.commitLog, start, p.checkOpts, (r) => p.reput.dispatch(r), p.log);
    ({ validEnd, scanned, problems } = res);
  } else {
    await p.consumeQueues.truncateFromPhy(validEnd);
  }
  const t2 = Date.now();
  await p.commitLog.files.truncateDirty(validEnd);
  const queueOffsets = new Map<string, number>();
  for (const cq of p.consumeQueues.all()) queueOffsets.set(`${cq.topic}-${cq.queueId}`, cq.maxOffset);
  p.commitLog.resetPositions(validEnd, queueOffsets);
  await p.commitLog.loadHeadBlock();
  p.reput.reputFromOffset = validEnd;
  p.flusher.flushedOffset = validEnd;
  if (p.commitLog.files.files.length > 0) await p.cleaner.cleanQueues();
  // Moves the checkpoint past what was just walked, in the background: the store may take writes
  // meanwhile, and if it died first the next start would just walk the same bytes again.
  void p.checkpointService.run();
  return {
    abnormal: p.abnormal,
    scanFrom: start,
    validEnd,
    scannedBytes: scanned,
    problems,
    timings: { loadMs: t1 - t0, scanMs: t2 - t1, finishMs: Date.now() - t2 },
  };
}
