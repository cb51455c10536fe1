/**
 * Message store configuration: upstream MessageStoreConfig's property names and defaults, so a
 * broker.properties written for Apache RocketMQ 4.x configures this store unchanged. Old spellings
 * (`mapedFileSizeCommitLog`, `destroyMapedFileIntervalForcibly`) are aliases; keys that configure
 * features this store does not have (transient store pool, consume-queue ext, DLedger) are accepted
 * so such files still load, and ignored (see docs/storage-format.md for which keys are honoured).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigSchema,
  boolKey,
  enumKey,
  intKey,
  stringKey,
  type ConfigOf,
} from '../common/config/config-schema.js';

export const FLUSH_DISK_TYPES = ['ASYNC_FLUSH', 'SYNC_FLUSH'] as const;
export type FlushDiskType = (typeof FLUSH_DISK_TYPES)[number];
export const BROKER_ROLES = ['ASYNC_MASTER', 'SYNC_MASTER', 'SLAVE'] as const;
export type BrokerRole = (typeof BROKER_ROLES)[number];

/** Bytes of one ConsumeQueue unit; the CQ file size is rounded up to a multiple of it. */
export const CQ_STORE_UNIT_SIZE = 20;

const MiB = 1024 * 1024;

export const messageStoreConfigSchema = new ConfigSchema({
  storePathRootDir: stringKey(join(homedir(), 'store'), { important: true }),
  /** Empty means `<storePathRootDir>/commitlog` (and likewise for the other paths). */
  storePathCommitLog: stringKey('', { important: true }),
  storePathConsumeQueue: stringKey(''),
  storePathIndex: stringKey(''),
  storeCheckpoint: stringKey(''),
  abortFile: stringKey(''),
  storePathDLedgerCommitLog: stringKey(''),

  mappedFileSizeCommitLog: intKey(1024 * MiB, { aliases: ['mapedFileSizeCommitLog'], min: 4096 }),
  /** Bytes (upstream multiplies 300000 units by 20); rounded up to whole units. */
  mappedFileSizeConsumeQueue: intKey(300000 * CQ_STORE_UNIT_SIZE, {
    aliases: ['mapedFileSizeConsumeQueue'],
    min: CQ_STORE_UNIT_SIZE,
  }),
  enableConsumeQueueExt: boolKey(false),
  mappedFileSizeConsumeQueueExt: intKey(48 * MiB, { aliases: ['mapedFileSizeConsumeQueueExt'] }),
  bitMapLengthConsumeQueueExt: intKey(64),

  flushIntervalCommitLog: intKey(500, { important: true, min: 1 }),
  commitIntervalCommitLog: intKey(200, { important: true }),
  useReentrantLockWhenPutMessage: boolKey(false),
  flushCommitLogTimed: boolKey(false, { important: true }),
  flushIntervalConsumeQueue: intKey(1000, { min: 1 }),
  cleanResourceInterval: intKey(10000, { min: 1 }),
  deleteCommitLogFilesInterval: intKey(100, { min: 0 }),
  deleteConsumeQueueFilesInterval: intKey(100, { min: 0 }),
  destroyMapedFileIntervalForcibly: intKey(120000, { aliases: ['destroyMappedFileIntervalForcibly'] }),
  redeleteHangedFileInterval: intKey(120000),
  deleteWhen: stringKey('04', { important: true }),
  diskMaxUsedSpaceRatio: intKey(75),
  /** Upstream 4.x reads these two from system properties; 5.x made them keys (percent). */
  diskSpaceWarningLevelRatio: intKey(90, { min: 1, max: 100 }),
  diskSpaceCleanForciblyRatio: intKey(85, { min: 1, max: 100 }),
  fileReservedTime: intKey(72, { important: true, min: 0 }),
  putMsgIndexHightWater: intKey(600000),
  maxMessageSize: intKey(4 * MiB, { min: 1024 }),
  checkCRCOnRecover: boolKey(true),
  flushCommitLogLeastPages: intKey(4, { min: 0 }),
  commitCommitLogLeastPages: intKey(4),
  flushLeastPagesWhenWarmMapedFile: intKey(4096),
  flushConsumeQueueLeastPages: intKey(2, { min: 0 }),
  flushCommitLogThoroughInterval: intKey(10000, { min: 0 }),
  commitCommitLogThoroughInterval: intKey(200),
  flushConsumeQueueThoroughInterval: intKey(60000, { min: 0 }),
  maxTransferBytesOnMessageInMemory: intKey(256 * 1024, { important: true, min: 1 }),
  maxTransferCountOnMessageInMemory: intKey(32, { important: true, min: 1 }),
  maxTransferBytesOnMessageInDisk: intKey(64 * 1024, { important: true, min: 1 }),
  maxTransferCountOnMessageInDisk: intKey(8, { important: true, min: 1 }),
  accessMessageInMemoryMaxRatio: intKey(40, { important: true, min: 0, max: 100 }),
  messageIndexEnable: boolKey(true, { important: true }),
  maxHashSlotNum: intKey(5000000, { min: 1 }),
  maxIndexNum: intKey(5000000 * 4, { min: 2 }),
  maxMsgsNumBatch: intKey(64),
  messageIndexSafe: boolKey(false, { important: true }),
  maxFilterMessageCount: intKey(16000, { min: 1 }),
  haListenPort: intKey(10912),
  haSendHeartbeatInterval: intKey(5000),
  haHousekeepingInterval: intKey(20000),
  haTransferBatchSize: intKey(32 * 1024),
  haMasterAddress: stringKey('', { important: true }),
  haSlaveFallbehindMax: intKey(256 * MiB),
  slaveTimeout: intKey(3000),
  brokerRole: enumKey(BROKER_ROLES, 'ASYNC_MASTER', { important: true }),
  flushDiskType: enumKey(FLUSH_DISK_TYPES, 'ASYNC_FLUSH', { important: true }),
  syncFlushTimeout: intKey(5000, { min: 1 }),
  messageDelayLevel: stringKey('1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h'),
  flushDelayOffsetInterval: intKey(10000),
  cleanFileForciblyEnable: boolKey(true, { important: true }),
  warmMapedFileEnable: boolKey(false, { aliases: ['warmMappedFileEnable'] }),
  offsetCheckInSlave: boolKey(false),
  debugLockEnable: boolKey(false),
  duplicationEnable: boolKey(false),
  diskFallRecorded: boolKey(true),
  osPageCacheBusyTimeOutMills: intKey(1000),
  defaultQueryMaxNum: intKey(32),
  transientStorePoolEnable: boolKey(false, { important: true }),
  transientStorePoolSize: intKey(5),
  fastFailIfNoBufferInStorePool: boolKey(false),
  enableDLegerCommitLog: boolKey(false),
  dLegerGroup: stringKey(''),
  dLegerPeers: stringKey(''),
  dLegerSelfId: stringKey(''),
  /**
   * RocketMQ 5.x's whole-record CRC property (`__CRC32#`). Upstream defaults to false; this store
   * defaults to true because the body CRC alone leaves topic and properties unprotected (ADR 0001).
   */
  enabledAppendPropCRC: boolKey(true),
  /** Reject records that lack the whole-record CRC on recovery (5.x name). */
  forceVerifyPropCRC: boolKey(false),
  /** This store's own: staged-but-unwritten bytes above which puts answer OS_PAGECACHE_BUSY. */
  maxWriteQueueBytes: intKey(64 * MiB, { min: 64 * 1024 }),
  /** This store's own: size of one staging buffer of the write path. */
  writeBufferSize: intKey(4 * MiB, { min: 64 * 1024 }),
  /**
   * This store's own: write the CommitLog with O_DIRECT (whole 4 KiB blocks, page cache bypassed)
   * where the file system supports it; falls back to ordinary writes elsewhere (ADR 0002).
   */
  commitLogDirectIo: boolKey(true),
  /**
   * This store's own: seal (CRCs) and write the CommitLog on a writer thread (ADR 0005); false
   * does both on the event loop.
   */
  commitLogSealThread: boolKey(true),
});

export type MessageStoreConfig = ConfigOf<typeof messageStoreConfigSchema.defs>;

export function defaultMessageStoreConfig(overrides: Partial<MessageStoreConfig> = {}): MessageStoreConfig {
  return { ...messageStoreConfigSchema.defaults(), ...overrides };
}

/** Upstream clamps the ratio to [10, 95]. */
export function effectiveDiskMaxUsedSpaceRatio(cfg: MessageStoreConfig): number {
  return Math.min(95, Math.max(10, cfg.diskMaxUsedSpaceRatio));
}

/** The CQ file size in bytes, rounded up to whole 20-byte units as upstream does. */
export function consumeQueueFileSize(cfg: MessageStoreConfig): number {
  return Math.ceil(cfg.mappedFileSizeConsumeQueue / CQ_STORE_UNIT_SIZE) * CQ_STORE_UNIT_SIZE;
}

export interface StorePaths {
  root: string;
  commitLog: string;
  consumeQueue: string;
  index: string;
  checkpoint: string;
  abort: string;
  lock: string;
}

/** Resolves every store path (upstream StorePathConfigHelper), honouring explicit overrides. */
export function storePaths(cfg: MessageStoreConfig): StorePaths {
  const root = cfg.storePathRootDir;
  return {
    root,
    commitLog: cfg.storePathCommitLog || join(root, 'commitlog'),
    consumeQueue: cfg.storePathConsumeQueue || join(root, 'consumequeue'),
    index: cfg.storePathIndex || join(root, 'index'),
    checkpoint: cfg.storeCheckpoint || join(root, 'checkpoint'),
    abort: cfg.abortFile || join(root, 'abort'),
    lock: join(root, 'lock'),
  };
}

/** Parses `messageDelayLevel` ("1s 5s 10s 30s 1m ... 2h", units s m h d) into ms per level (index 1..n). */
export function parseDelayLevels(text: string): number[] {
  const unit: Record<string, number> = { s: 1000, m: 60000, h: 3600000, d: 86400000 };
  const levels = [0];
  for (const word of text.trim().split(/\s+/)) {
    const m = /^(\d+)([smhd])$/.exec(word);
    if (!m) continue;
    levels.push(Number(m[1]) * unit[m[2]!]!);
  }
  return levels;
}
