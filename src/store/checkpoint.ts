/**
 * The `checkpoint` file (upstream StoreCheckpoint): 4 KiB, big-endian.
 *
 *   off  size  field
 *     0    8   physicMsgTimestamp   store time of the newest flushed CommitLog message
 *     8    8   logicsMsgTimestamp   store time of the newest message whose CQ unit is flushed
 *    16    8   indexMsgTimestamp    store time of the newest flushed index entry
 *    24    8   masterFlushedOffset  (5.x; kept as read)
 *    32    8   confirmPhyOffset     (5.x; kept as read)
 *    64    8   magic "RMQTSCP1"     this store's extension, ignored by upstream
 *    72    8   flushedPhyOffset     CommitLog bytes below this are fdatasync'ed
 *    80    8   dispatchedPhyOffset  records below this have flushed CQ units and index entries
 *    88    8   cleanEndOffset       exact CommitLog end at the last clean shutdown, else -1
 *    96    4   CRC32 of bytes 64..96
 *
 * Written with one positional write of the whole page and fdatasync'ed, after the CommitLog, the
 * ConsumeQueues and the index were flushed, so every offset in it is durable. Recovery starts its
 * CommitLog walk at dispatchedPhyOffset instead of rescanning old segments; an upstream store
 * (no extension) falls back to the timestamps.
 */
import { crc32 } from 'node:zlib';
import { readInt64, writeInt64 } from '../common/int64.js';
import type { StoreFs } from './io/store-fs.js';

export const CHECKPOINT_SIZE = 4096;
const EXT_MAGIC = Buffer.from('RMQTSCP1', 'latin1');

export class StoreCheckpoint {
  physicMsgTimestamp = 0;
  logicsMsgTimestamp = 0;
  indexMsgTimestamp = 0;
  masterFlushedOffset = 0;
  confirmPhyOffset = 0;
  /** -1 when the file has no valid extension (written by upstream or torn). */
  flushedPhyOffset = -1;
  dispatchedPhyOffset = -1;
  cleanEndOffset = -1;
  private fd = -1;
  private readonly page = Buffer.alloc(CHECKPOINT_SIZE);
  private writing: Promise<void> | undefined;

  constructor(
    private readonly fs: StoreFs,
    readonly path: string,
  ) {}

  async open(): Promise<void> {
    const existed = this.fs.exists(this.path);
    this.fd = await this.fs.open(this.path, existed ? 'r+' : 'w+');
    if (!existed) return;
    const b = Buffer.alloc(CHECKPOINT_SIZE);
    await this.fs.read(this.fd, b, 0, CHECKPOINT_SIZE, 0);
    this.physicMsgTimestamp = readInt64(b, 0);
    this.logicsMsgTimestamp = readInt64(b, 8);
    this.indexMsgTimestamp = readInt64(b, 16);
    this.masterFlushedOffset = readInt64(b, 24);
    this.confirmPhyOffset = readInt64(b, 32);
    if (b.subarray(64, 72).equals(EXT_MAGIC) && (crc32(b.subarray(64, 96)) | 0) === b.readInt32BE(96)) {
      this.flushedPhyOffset = readInt64(b, 72);
      this.dispatchedPhyOffset = readInt64(b, 80);
      this.cleanEndOffset = b.readInt32BE(88) < 0 ? -1 : readInt64(b, 88);
    }
  }

  /** Upstream's recovery point: min(physic, logics) - 3 s. */
  minTimestamp(): number {
    return Math.max(0, Math.min(this.physicMsgTimestamp, this.logicsMsgTimestamp) - 3000);
  }

  async flush(): Promise<void> {
    while (this.writing) await this.writing;
    const b = this.page;
    writeInt64(b, 0, this.physicMsgTimestamp);
    writeInt64(b, 8, this.logicsMsgTimestamp);
    writeInt64(b, 16, this.indexMsgTimestamp);
    writeInt64(b, 24, this.masterFlushedOffset);
    writeInt64(b, 32, this.confirmPhyOffset);
    EXT_MAGIC.copy(b, 64);
    writeInt64(b, 72, Math.max(0, this.flushedPhyOffset));
    writeInt64(b, 80, Math.max(0, this.dispatchedPhyOffset));
    if (this.cleanEndOffset < 0) {
      b.writeInt32BE(-1, 88);
      b.writeInt32BE(-1, 92);
    } else {
      writeInt64(b, 88, this.cleanEndOffset);
    }
    b.writeInt32BE(crc32(b.subarray(64, 96)) | 0, 96);
    this.writing = (async () => {
      await this.fs.write(this.fd, b, 0, CHECKPOINT_SIZE, 0);
      await this.fs.fdatasync(this.fd);
    })();
    try {
      await this.writing;
    } finally {
      this.writing = undefined;
    }
  }

  async close(): Promise<void> {
    while (this.writing) await this.writing;
    if (this.fd >= 0) await this.fs.close(this.fd).catch(() => undefined);
    this.fd = -1;
  }
}
