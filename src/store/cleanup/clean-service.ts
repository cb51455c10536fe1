/**
 * Retention and disk-space guard (upstream CleanCommitLogService + CleanConsumeQueueService).
 *
 * Every cleanResourceInterval ms: measure the CommitLog disk. Above diskSpaceWarningLevelRatio the
 * store refuses writes (clear remark, no partial files) and cleaning is forced; above
 * diskSpaceCleanForciblyRatio cleaning is forced; above diskMaxUsedSpaceRatio expired files are
 * deleted whatever the hour. Otherwise CommitLog segments older than fileReservedTime hours are
 * deleted at the hours listed in deleteWhen ("04", or "04;16"). A pass deletes at most
 * DELETE_FILES_BATCH_MAX segments, waiting deleteCommitLogFilesInterval ms between two, never the
 * newest segment and never one the dispatcher has not passed. Forced cleaning (cleanFileForciblyEnable)
 * deletes the oldest segments even when not expired. Then ConsumeQueue and index files wholly
 * below the new CommitLog minimum go, and every queue's minimum offset is corrected.
 */
import type { Logger } from '../../common/logger.js';
import type { StoreFs } from '../io/store-fs.js';
import type { CommitLog } from '../commitlog/commitlog.js';
import type { ConsumeQueueStore } from '../consume-queue/consume-queue-store.js';
import type { IndexService } from '../index/index-service.js';
import { effectiveDiskMaxUsedSpaceRatio, type MessageStoreConfig } from '../message-store-config.js';

const DELETE_FILES_BATCH_MAX = 10;

export class CleanService {
  /** Set while the disk is above the warning level; puts are refused. */
  diskFull = false;
  diskRatio = 0;
  private manualDeletes = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly cfg: MessageStoreConfig,
    private readonly fs: StoreFs,
    private readonly commitLog: CommitLog,
    private readonly cqs: ConsumeQueueStore,
    private readonly index: IndexService | undefined,
    private readonly dispatchedOffset: () => number,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.runOnce(), this.cfg.cleanResourceInterval);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Upstream executeDeleteFilesManually: the next passes delete expired files at any hour. */
  executeDeleteFilesManually(): void {
    this.manualDeletes = 20;
  }

  runOnce(): Promise<void> {
    if (!this.running) {
      this.running = this.pass()
        .catch((err: unknown) => this.log.error({ err }, 'clean pass failed'))
        .finally(() => (this.running = undefined));
    }
    return this.running;
  }

  /** Measures the disk; returns whether cleaning must ignore the reserve time. */
  async checkDisk(): Promise<{ cleanImmediately: boolean; spaceToDelete: boolean }> {
    let ratio = 0;
    try {
      const u = await this.fs.diskUsage(this.commitLog.files.dir);
      ratio = u.totalBytes > 0 ? 1 - u.freeBytes / u.totalBytes : 0;
    } catch (err) {
      this.log.warn({ err }, 'could not measure the disk');
    }
    this.diskRatio = ratio;
    const warn = this.cfg.diskSpaceWarningLevelRatio / 100;
    const force = this.cfg.diskSpaceCleanForciblyRatio / 100;
    let cleanImmediately = false;
    if (ratio > warn) {
      if (!this.diskFull)
        this.log.error({ ratio, warn }, 'disk almost full: refusing writes until space is freed');
      this.diskFull = true;
      cleanImmediately = true;
    } else {
      if (this.diskFull)
        this.log.warn({ ratio }, 'disk space back below the warning level: accepting writes');
      this.diskFull = false;
      if (ratio > force) cleanImmediately = true;
    }
    return { cleanImmediately, spaceToDelete: ratio > effectiveDiskMaxUsedSpaceRatio(this.cfg) / 100 };
  }

  private isTimeToDelete(): boolean {
    const hour = new Date(this.now()).getHours();
    return this.cfg.deleteWhen.split(';').some((h) => h.trim() !== '' && Number(h) === hour);
  }

  private async pass(): Promise<void> {
    const { cleanImmediately, spaceToDelete } = await this.checkDisk();
    const manual = this.manualDeletes > 0;
    if (manual) this.manualDeletes--;
    if (this.isTimeToDelete() || spaceToDelete || manual || cleanImmediately) {
      const force = cleanImmediately && this.cfg.cleanFileForciblyEnable;
      const n = await this.deleteCommitLogFiles(force);
      if (n > 0) this.log.info({ deleted: n, force }, 'deleted CommitLog segments');
    }
    await this.cleanQueues();
  }

  private async deleteCommitLogFiles(force: boolean): Promise<number> {
    const expireMs = this.cfg.fileReservedTime * 3600 * 1000;
    let deleted = 0;
    while (deleted < DELETE_FILES_BATCH_MAX) {
      const files = this.commitLog.files.files;
      const f = files[0];
      if (!f || files.length <= 1) break;
      if (f.fileEndOffset > this.dispatchedOffset()) break;
      if (!force && f.lastModified + expireMs > this.now()) break;
      await this.commitLog.files.deleteFirst();
      deleted++;
      if (this.cfg.deleteCommitLogFilesInterval > 0) {
        await new Promise((r) => setTimeout(r, this.cfg.deleteCommitLogFilesInterval));
      }
    }
    return deleted;
  }

  async cleanQueues(): Promise<void> {
    const min = this.commitLog.minOffset();
    for (const cq of this.cqs.all()) {
      await cq.deleteExpiredFiles(min, DELETE_FILES_BATCH_MAX);
      await cq.correctMinOffset(min);
    }
    await this.index?.deleteExpired(min);
  }
}
