/**
 * The message store (upstream DefaultMessageStore): CommitLog + ConsumeQueues + IndexFiles +
 * checkpoint/abort/lock, usable on its own. Lifecycle: `start()` takes the lock, recovers (clean or
 * after a crash, see recovery/), creates `abort` and starts the services; `shutdown()` drains writes,
 * waits for dispatch, flushes everything, writes the checkpoint with the exact end, removes `abort`
 * and releases the lock. A killed process leaves `abort` behind and the next start repairs.
 * Layout of every file: docs/storage-format.md and the files that own them.
 */
import { join } from 'node:path';
import { getLogger } from '../common/logger.js';
import { RmqError, ErrorCode } from '../common/errors.js';
import { encodeSocketAddr, type SocketAddr } from '../common/socket-address.js';
import type { MessageExt } from '../common/message/message-record.js';
import { nodeStoreFs, type StoreFs } from './io/store-fs.js';
import {
  consumeQueueFileSize,
  parseDelayLevels,
  storePaths,
  type MessageStoreConfig,
  type StorePaths,
} from './message-store-config.js';
import { CommitLog } from './commitlog/commitlog.js';
import { RecordEncoder } from './commitlog/record-encoder.js';
import { FlushService } from './commitlog/flush-service.js';
import type { CheckOptions } from './commitlog/record-check.js';
import { Preallocator } from './commitlog/preallocator.js';
import { ConsumeQueueStore } from './consume-queue/consume-queue-store.js';
import { IndexService } from './index/index-service.js';
import { ReputService } from './dispatch/reput-service.js';
import { DispatchKeys } from './dispatch/dispatch-keys.js';
import { StoreCheckpoint } from './checkpoint.js';
import { CheckpointService } from './checkpoint-service.js';
import { AbortFile } from './abort-file.js';
import { LockFile } from './lock-file.js';
import type { RecoveryReport } from './recovery/commitlog-recovery.js';
import { recoverStore } from './recovery/store-recovery.js';
import { CleanService } from './cleanup/clean-service.js';
import { cleanExpiredConsumeQueues, unusedTopics, type ExpiredCleanResult } from './cleanup/queue-cleanup.js';
import { MessageReader } from './get-message.js';
import { StoreLookups } from './store-lookups.js';
import { StoreStats } from './store-stats.js';
import { StorePut } from './store-put.js';
import {
  PutMessageStatus,
  type DispatchListener,
  type GetMessageResult,
  type MessageBatchToStore,
  type MessageFilter,
  type MessageToStore,
  type PutMessageResult,
  type QueryMessageResult,
} from './store-types.js';

export interface MessageStoreOptions {
  /** brokerIP1:listenPort, written into every record's STOREHOST. */
  storeHost: SocketAddr;
  /** File operations (tests inject faults here). */
  fs?: StoreFs;
  /** SYNC_MASTER: waits until a slave confirmed `endOffset` (the HA service, later). */
  replicaWait?: (endOffset: number) => Promise<'OK' | 'FLUSH_SLAVE_TIMEOUT' | 'SLAVE_NOT_AVAILABLE'>;
}

type State = 'NEW' | 'RUNNING' | 'SHUTDOWN';

export class MessageStore {
  readonly paths: StorePaths;
  readonly commitLog: CommitLog;
  readonly consumeQueues: ConsumeQueueStore;
  readonly index: IndexService | undefined;
  readonly reput: ReputService;
  readonly flusher: FlushService;
  readonly stats = new StoreStats();
  recoveryReport: RecoveryReport | undefined;
  private readonly log = getLogger('store');
  private readonly fs: StoreFs;
  private readonly encoder: RecordEncoder;
  private readonly checkpoint: StoreCheckpoint;
  private readonly checkpointService: CheckpointService;
  private readonly cleaner: CleanService;
  private readonly reader: MessageReader;
  private readonly lookups: StoreLookups;
  private readonly abort: AbortFile;
  private readonly lock: LockFile;
  private readonly keys: DispatchKeys;
  private readonly checkOpts: CheckOptions;
  private readonly preallocator: Preallocator | undefined;
  private readonly sync: boolean;
  private state: State = 'NEW';
  private readonly putter: StorePut;

  constructor(
    readonly config: MessageStoreConfig,
    private readonly options: MessageStoreOptions,
  ) {
    this.fs = options.fs ?? nodeStoreFs;
    this.paths = storePaths(config);
    this.keys = new DispatchKeys(parseDelayLevels(config.messageDelayLevel));
    this.sync = config.flushDiskType === 'SYNC_FLUSH';
    this.encoder = new RecordEncoder(
      encodeSocketAddr(options.storeHost),
      config.maxMessageSize,
      config.enabledAppendPropCRC,
    );
    const tagsCode = (topic: string, props: string, ts: number): number => this.tagsCode(topic, props, ts);
    this.checkOpts = {
      checkCrc: config.checkCRCOnRecover,
      requireRecordCrc: config.forceVerifyPropCRC,
      maxRecordSize: Math.max(config.maxMessageSize, 4 * 1024 * 1024) + 64 * 1024,
      tagsCode,
    };
    const clLog = getLogger('store.commitlog');
    this.commitLog = new CommitLog(
      this.fs,
      this.paths.commitLog,
      config.mappedFileSizeCommitLog,
      this.encoder,
      this.keys,
      config.messageIndexEnable,
      Math.min(config.writeBufferSize, config.mappedFileSizeCommitLog),
      config.maxWriteQueueBytes,
      config.commitLogDirectIo,
      config.enabledAppendPropCRC,
      config.commitLogSealThread,
      clLog,
    );
    this.commitLog.sealOnIdleLoop = !this.sync;
    this.consumeQueues = new ConsumeQueueStore(
      this.fs,
      this.paths.consumeQueue,
      consumeQueueFileSize(config),
      getLogger('store.consumequeue'),
    );
    this.index = config.messageIndexEnable
      ? new IndexService(
          this.fs,
          this.paths.index,
          config.maxHashSlotNum,
          config.maxIndexNum,
          getLogger('store.index'),
        )
      : undefined;
    this.reput = new ReputService(
      this.commitLog,
      this.consumeQueues,
      this.index,
      this.keys,
      this.checkOpts,
      getLogger('store.reput'),
    );
    this.flusher = new FlushService(
      this.commitLog,
      {
        sync: this.sync,
        syncFlushTimeout: config.syncFlushTimeout,
        flushInterval: config.flushIntervalCommitLog,
        leastPages: config.flushCommitLogLeastPages,
        thoroughInterval: config.flushCommitLogThoroughInterval,
      },
      getLogger('store.flush'),
    );
    this.putter = new StorePut(
      this.commitLog,
      this.encoder,
      this.flusher,
      this.stats,
      this.sync,
      config.brokerRole === 'SYNC_MASTER' ? options.replicaWait : undefined,
    );
    if (this.sync || config.warmMapedFileEnable) {
      this.preallocator = new Preallocator(this.commitLog, clLog);
    }
    this.commitLog.onWritten = () => {
      this.reput.pump();
      this.flusher.onWritten();
      this.preallocator?.onWritten();
    };
    this.commitLog.onWriteFailed = (validEnd) => this.flusher.onWriteFailed(validEnd);
    this.commitLog.threadSync = {
      synced: (end, ts, fileFrom) => this.flusher.onThreadSynced(end, ts, fileFrom),
      syncFailed: (err) => this.flusher.onThreadSyncFailed(err),
    };
    this.checkpoint = new StoreCheckpoint(this.fs, this.paths.checkpoint);
    this.checkpointService = new CheckpointService(
      config,
      this.checkpoint,
      this.flusher,
      this.consumeQueues,
      this.index,
      this.reput,
      getLogger('store.checkpoint'),
    );
    this.cleaner = new CleanService(
      config,
      this.fs,
      this.commitLog,
      this.consumeQueues,
      this.index,
      () => this.reput.reputFromOffset,
      getLogger('store.clean'),
    );
    this.reader = new MessageReader(config, this.commitLog, this.consumeQueues, getLogger('store.read'));
    this.lookups = new StoreLookups(
      config,
      this.commitLog,
      this.consumeQueues,
      this.index,
      this.checkOpts.maxRecordSize,
    );
    this.abort = new AbortFile(this.fs, this.paths.abort);
    this.lock = new LockFile(this.paths.lock);
  }

  /** CQ tagsCode: String.hashCode(TAGS); for delayed messages, their delivery time. */
  tagsCode(topic: string, props: string, storeTimestamp: number): number {
    return this.keys.tagsCode(topic, props, storeTimestamp);
  }

  async start(): Promise<RecoveryReport> {
    if (this.state !== 'NEW') throw new RmqError(ErrorCode.SERVICE_STATE, `store is ${this.state}`);
    await this.fs.mkdir(this.paths.root);
    this.lock.acquire();
    try {
      const report = await this.recover();
      this.recoveryReport = report;
      this.abort.create();
      await this.index?.ensureWritable();
      this.commitLog.startWriter();
      this.flusher.start();
      this.checkpointService.start();
      this.cleaner.start();
      await this.cleaner.checkDisk();
      this.state = 'RUNNING';
      if (this.config.brokerRole === 'SYNC_MASTER' && !this.options.replicaWait) {
        this.log.warn('SYNC_MASTER without a replication service: puts do not wait for a slave');
      }
      return report;
    } catch (err) {
      this.lock.release();
      throw err;
    }
  }

  private async recover(): Promise<RecoveryReport> {
    const report = await recoverStore({
      abnormal: this.abort.exists(),
      fs: this.fs,
      commitLogDir: this.paths.commitLog,
      checkpoint: this.checkpoint,
      commitLog: this.commitLog,
      consumeQueues: this.consumeQueues,
      index: this.index,
      checkOpts: this.checkOpts,
      reput: this.reput,
      flusher: this.flusher,
      cleaner: this.cleaner,
      checkpointService: this.checkpointService,
      log: this.log,
    });
    this.log.info(report, report.abnormal ? 'recovered after an abnormal exit' : 'store loaded');
    return report;
  }

  async shutdown(): Promise<void> {
    if (this.state !== 'RUNNING') return;
    this.state = 'SHUTDOWN';
    await this.commitLog.drained();
    await this.reput.caughtUp();
    this.reput.stop();
    this.flusher.stop();
    await this.preallocator?.stop();
    await this.cleaner.stop();
    await this.checkpointService.stop();
    await this.commitLog.stopWriter();
    this.reader.cache.clear();
    await this.flusher.flushAll();
    const cleanEnd =
      this.reput.reputFromOffset >= this.commitLog.writtenOffset && this.commitLog.state === 'OK';
    await this.checkpointService.run(cleanEnd ? this.commitLog.writtenOffset : -1);
    await this.consumeQueues.close();
    await this.index?.close();
    await this.commitLog.files.closeAll();
    await this.checkpoint.close();
    if (cleanEnd) this.abort.remove();
    this.lock.release();
  }

  /** Why a put must be refused now, or undefined. */
  private refuse(): PutMessageResult | undefined {
    if (this.state !== 'RUNNING')
      return { status: PutMessageStatus.SERVICE_NOT_AVAILABLE, remark: `store is ${this.state}` };
    if (this.config.brokerRole === 'SLAVE')
      return { status: PutMessageStatus.SERVICE_NOT_AVAILABLE, remark: 'store is a slave' };
    if (this.cleaner.diskFull) {
      return {
        status: PutMessageStatus.SERVICE_NOT_AVAILABLE,
        remark: `disk full: ${(this.cleaner.diskRatio * 100).toFixed(1)}% used >= diskSpaceWarningLevelRatio ${this.config.diskSpaceWarningLevelRatio}%`,
      };
    }
    if (this.commitLog.state !== 'OK') {
      return {
        status: PutMessageStatus.SERVICE_NOT_AVAILABLE,
        remark: `store not writable: ${this.commitLog.stateReason}`,
      };
    }
    return undefined;
  }

  putMessage(msg: MessageToStore): Promise<PutMessageResult> {
    const refused = this.refuse();
    if (refused) return Promise.resolve(this.stats.putFailed(refused));
    return this.putter.putMessage(msg);
  }

  putMessages(batch: MessageBatchToStore): Promise<PutMessageResult> {
    const refused = this.refuse();
    if (refused) return Promise.resolve(this.stats.putFailed(refused));
    return this.putter.putMessages(batch);
  }

  /** Whether puts should be answered SYSTEM_BUSY (write queue near its bound). */
  isOSPageCacheBusy(): boolean {
    return this.commitLog.writeQueueBytes() >= this.commitLog.maxWriteQueueBytes / 2;
  }

  /** CommitLog bytes read for pulls so far (beyond what the staging memory served). */
  get pullReadBytes(): number {
    return this.reader.cache.readBytes;
  }

  /** Records pulls found in no read-ahead block so far (each waited for a read). */
  get pullCacheMisses(): number {
    return this.reader.cache.misses;
  }

  /** CommitLog reads for pulls (their own or ahead of them) under way. */
  get pullReadsUnderWay(): number {
    return this.reader.cache.readsUnderWay;
  }

  async getMessage(
    group: string,
    topic: string,
    queueId: number,
    offset: number,
    maxMsgNums: number,
    filter?: MessageFilter,
  ): Promise<GetMessageResult> {
    const r = await this.reader.getMessage(group, topic, queueId, offset, maxMsgNums, filter);
    this.stats.got(r.messages.length);
    return r;
  }

  onDispatch(listener: DispatchListener): () => void {
    this.reput.listeners.push(listener);
    return () => {
      this.reput.listeners = this.reput.listeners.filter((l) => l !== listener);
    };
  }

  getMaxOffsetInQueue(topic: string, queueId: number): number {
    return this.consumeQueues.find(topic, queueId)?.maxOffset ?? 0;
  }

  getMinOffsetInQueue(topic: string, queueId: number): number {
    return this.consumeQueues.find(topic, queueId)?.minOffset ?? -1;
  }

  /** The unit at `offset`: [commitLogOffset, size, tagsCode], or undefined. */
  getUnit(topic: string, queueId: number, offset: number): Promise<[number, number, number] | undefined> {
    return this.lookups.getUnit(topic, queueId, offset);
  }

  hasConsumeQueue(topic: string, queueId: number): boolean {
    return this.consumeQueues.find(topic, queueId) !== undefined;
  }

  /**
   * Raw 20-byte units from `index`, at most `count` but fewer at a file or read-block boundary (ask
   * again from where they end); undefined when the queue does not exist or `index` is outside it.
   */
  getConsumeQueueUnits(
    topic: string,
    queueId: number,
    index: number,
    count: number,
  ): Promise<Buffer | undefined> {
    const cq = this.consumeQueues.find(topic, queueId);
    if (!cq || index < cq.minOffset || index >= cq.maxOffset) return Promise.resolve(undefined);
    return cq.readUnits(index, count);
  }

  async getCommitLogOffsetInQueue(topic: string, queueId: number, offset: number): Promise<number> {
    return (await this.getUnit(topic, queueId, offset))?.[0] ?? 0;
  }

  getMessageStoreTimeStamp(topic: string, queueId: number, offset: number): Promise<number> {
    return this.lookups.getMessageStoreTimeStamp(topic, queueId, offset);
  }

  async getEarliestMessageTime(topic: string, queueId: number): Promise<number> {
    return this.getMessageStoreTimeStamp(topic, queueId, this.getMinOffsetInQueue(topic, queueId));
  }

  /** Store time of the oldest message in the CommitLog, -1 when empty. */
  getEarliestMessageTimeAll(): Promise<number> {
    return this.lookups.getEarliestMessageTimeAll();
  }

  /** The first queue offset whose message was stored at or after `timestamp` (maxOffset if none). */
  getOffsetInQueueByTime(topic: string, queueId: number, timestamp: number): Promise<number> {
    return this.lookups.getOffsetInQueueByTime(topic, queueId, timestamp);
  }

  async checkInDiskByConsumeOffset(topic: string, queueId: number, consumeOffset: number): Promise<boolean> {
    const u = await this.getUnit(topic, queueId, consumeOffset);
    return u ? this.reader.checkInDiskByCommitOffset(u[0]) : false;
  }

  /** The raw record at a CommitLog offset (size read from the record when not given); CRC-checked. */
  lookMessageByOffsetRaw(phyOffset: number, size?: number): Promise<Buffer | undefined> {
    return this.lookups.lookMessageByOffsetRaw(phyOffset, size);
  }

  lookMessageByOffset(phyOffset: number, size?: number): Promise<MessageExt | undefined> {
    return this.lookups.lookMessageByOffset(phyOffset, size);
  }

  /** Messages whose key (KEYS word or UNIQ_KEY) is `key`, stored within [begin, end]. */
  queryMessage(
    topic: string,
    key: string,
    maxNum: number,
    begin: number,
    end: number,
  ): Promise<QueryMessageResult> {
    return this.lookups.queryMessage(topic, key, maxNum, begin, end);
  }

  getMinPhyOffset(): number {
    return this.commitLog.minOffset();
  }

  getMaxPhyOffset(): number {
    return this.commitLog.writtenOffset;
  }

  /** Raw CommitLog bytes from `fromOffset` to the end of its segment or of the data (replication). */
  async getCommitLogData(fromOffset: number, maxBytes = 4 * 1024 * 1024): Promise<Buffer | undefined> {
    const file = this.commitLog.files.findByOffset(fromOffset);
    if (!file) return undefined;
    const end = Math.min(this.commitLog.writtenOffset, file.fileEndOffset, fromOffset + maxBytes);
    if (end <= fromOffset) return undefined;
    return this.commitLog.read(fromOffset, end - fromOffset);
  }

  /** A slave appends what its master sent; false when the offset is not this store's end. */
  appendToCommitLog(startOffset: number, data: Buffer): boolean {
    if (this.state !== 'RUNNING' || this.config.brokerRole !== 'SLAVE') return false;
    return this.commitLog.appendRaw(startOffset, data);
  }

  async deleteTopics(topics: Iterable<string>): Promise<number> {
    let n = 0;
    for (const t of topics) {
      if (!this.consumeQueues.table.has(t)) continue;
      await this.consumeQueues.deleteTopic(t);
      this.commitLog.removeQueueOffsets(t);
      n++;
    }
    return n;
  }

  /** Upstream cleanExpiredConsumerQueue: drops queues pointing only below the CommitLog minimum. */
  cleanExpiredConsumerQueue(): Promise<ExpiredCleanResult> {
    return cleanExpiredConsumeQueues(this.commitLog.minOffset(), this.consumeQueues, this.fs, this.log);
  }

  /** Upstream cleanUnusedTopic: deletes the queues of topics not in `topics` (broker state kept). */
  async cleanUnusedTopic(topics: ReadonlySet<string>): Promise<string[]> {
    const unused = unusedTopics(this.consumeQueues.table.keys(), topics);
    await this.deleteTopics(unused);
    if (unused.length > 0) this.log.info({ topics: unused }, 'cleanUnusedTopic: queues deleted');
    return unused;
  }

  executeDeleteFilesManually(): void {
    this.cleaner.executeDeleteFilesManually();
  }

  /** One clean pass now (tests, admin). */
  async cleanNow(): Promise<void> {
    await this.cleaner.runOnce();
  }

  dispatchBehindBytes(): number {
    return this.reput.behindBytes();
  }

  getRuntimeInfo(): Record<string, string> {
    const info = this.stats.runtimeInfo();
    info.commitLogMinOffset = String(this.getMinPhyOffset());
    info.commitLogMaxOffset = String(this.getMaxPhyOffset());
    info.dispatchBehindBytes = String(this.dispatchBehindBytes());
    info.commitLogDiskRatio = String(this.cleaner.diskRatio);
    info.consumeQueueDiskRatio = String(this.cleaner.diskRatio);
    info.remainHowManyDataToFlush = String(this.commitLog.writtenOffset - this.flusher.flushedOffset);
    info.remainHowManyDataToCommit = String(this.commitLog.writeQueueBytes());
    info.pageCacheLockTimeMills = '0';
    info.commitLogDirCapacity = `path: ${this.paths.commitLog}`;
    info.storeState =
      this.commitLog.state === 'OK' ? (this.cleaner.diskFull ? 'DISK_FULL' : 'OK') : this.commitLog.state;
    return info;
  }

  /** Where a queue's files live (tools, tests). */
  consumeQueueDir(topic: string, queueId: number): string {
    return join(this.paths.consumeQueue, topic, String(queueId));
  }
}
