/**
 * Reading a queue (upstream DefaultMessageStore.getMessage): ConsumeQueue units from `offset`, tag
 * filter on the unit's tagsCode, then the records from the CommitLog, copied into one buffer per
 * pull: from the writer's staging memory while it still holds them (tailing consumers), else from
 * blocks read ahead and kept for the next pulls (read-cache.ts). Batch limits follow
 * upstream: maxTransfer{Bytes,Count}OnMessageIn{Memory,Disk}, where "in disk" means the record is
 * further behind the CommitLog head than accessMessageInMemoryMaxRatio of physical memory.
 * A record read back from a device that fails its CRC is never served: the read stops before it
 * and logs it.
 */
import { totalmem } from 'node:os';
import type { Logger } from '../common/logger.js';
import { readInt64 } from '../common/int64.js';
import type { CommitLog } from './commitlog/commitlog.js';
import { verifyRecordForRead } from './commitlog/record-check.js';
import type { ConsumeQueueStore } from './consume-queue/consume-queue-store.js';
import { CQ_STORE_UNIT_SIZE } from './consume-queue/consume-queue.js';
import type { MessageStoreConfig } from './message-store-config.js';
import { GetMessageStatus, type GetMessageResult, type MessageFilter } from './store-types.js';
import { ReadCache } from './read-cache.js';

const memory = totalmem();

/** The units picked from one ConsumeQueue block, as parallel arrays (no object per message). */
interface Picked {
  phy: number[];
  size: number[];
  qo: number[];
}

export class MessageReader {
  readonly cache: ReadCache;

  constructor(
    private readonly cfg: MessageStoreConfig,
    private readonly commitLog: CommitLog,
    private readonly cqs: ConsumeQueueStore,
    private readonly log: Logger,
  ) {
    this.cache = new ReadCache(commitLog);
  }

  private inMemoryBytes(): number {
    return memory * (this.cfg.accessMessageInMemoryMaxRatio / 100);
  }

  checkInDiskByCommitOffset(offsetPy: number): boolean {
    return this.commitLog.writtenOffset - offsetPy > this.inMemoryBytes();
  }

  private correct(oldOffset: number, newOffset: number): number {
    return this.cfg.brokerRole !== 'SLAVE' || this.cfg.offsetCheckInSlave ? newOffset : oldOffset;
  }

  private batchFull(
    sizePy: number,
    maxMsgNums: number,
    total: number,
    count: number,
    inDisk: boolean,
  ): boolean {
    if (total === 0 || count === 0) return false;
    if (maxMsgNums <= count) return true;
    const c = this.cfg;
    if (inDisk) {
      return (
        total + sizePy > c.maxTransferBytesOnMessageInDisk || count > c.maxTransferCountOnMessageInDisk - 1
      );
    }
    return (
      total + sizePy > c.maxTransferBytesOnMessageInMemory || count > c.maxTransferCountOnMessageInMemory - 1
    );
  }

  async getMessage(
    group: string,
    topic: string,
    queueId: number,
    offset: number,
    maxMsgNums: number,
    filter?: MessageFilter,
  ): Promise<GetMessageResult> {
    const r: GetMessageResult = {
      status: GetMessageStatus.NO_MESSAGE_IN_QUEUE,
      nextBeginOffset: offset,
      minOffset: 0,
      maxOffset: 0,
      messages: [],
      queueOffsets: [],
      bufferTotalSize: 0,
      suggestPullingFromSlave: false,
    };
    const cq = this.cqs.find(topic, queueId);
    if (!cq) {
      r.status = GetMessageStatus.NO_MATCHED_LOGIC_QUEUE;
      r.nextBeginOffset = this.correct(offset, 0);
      return r;
    }
    const minOffset = cq.minOffset;
    const maxOffset = cq.maxOffset;
    r.minOffset = minOffset;
    r.maxOffset = maxOffset;
    if (maxOffset === 0) {
      r.status = GetMessageStatus.NO_MESSAGE_IN_QUEUE;
      r.nextBeginOffset = this.correct(offset, 0);
      return r;
    }
    if (offset < minOffset) {
      r.status = GetMessageStatus.OFFSET_TOO_SMALL;
      r.nextBeginOffset = this.correct(offset, minOffset);
      return r;
    }
    if (offset === maxOffset) {
      r.status = GetMessageStatus.OFFSET_OVERFLOW_ONE;
      r.nextBeginOffset = this.correct(offset, offset);
      return r;
    }
    if (offset > maxOffset) {
      r.status = GetMessageStatus.OFFSET_OVERFLOW_BADLY;
      r.nextBeginOffset = this.correct(offset, maxOffset);
      return r;
    }
    const maxFilter = Math.max(this.cfg.maxFilterMessageCount, maxMsgNums * 20);
    const maxPy = this.commitLog.writtenOffset;
    const clMin = this.commitLog.minOffset();
    r.status = GetMessageStatus.NO_MATCHED_MESSAGE;
    let scanned = 0;
    let maxPhyPulling = 0;
    let nextFileStart = -1;
    let index = offset;
    let done = false;
    while (!done && scanned < maxFilter && index < cq.maxOffset) {
      const units = await cq.readUnits(
        index,
        Math.min(maxFilter - scanned, filter ? 1024 : Math.max(maxMsgNums, 32)),
      );
      if (!units || units.length === 0) {
        if (scanned === 0) {
          r.status = GetMessageStatus.OFFSET_FOUND_NULL;
          r.nextBeginOffset = this.correct(offset, cq.rollNextFile(offset));
          return r;
        }
        break;
      }
      // Pick the units to serve from this block, then read their records.
      const picked: Picked = { phy: [], size: [], qo: [] };
      let i = 0;
      let total = r.bufferTotalSize;
      for (; i < units.length; i += CQ_STORE_UNIT_SIZE) {
        const phy = readInt64(units, i);
        const size = units.readInt32BE(i + 8);
        const tags = readInt64(units, i + 12);
        maxPhyPulling = phy;
        if (nextFileStart >= 0 && phy < nextFileStart) continue;
        if (
          this.batchFull(
            size,
            maxMsgNums,
            total,
            r.messages.length + picked.phy.length,
            this.checkInDiskByCommitOffset(phy),
          )
        ) {
          done = true;
          break;
        }
        if (filter && !filter.isMatchedByConsumeQueue(tags)) continue;
        if (phy < clMin || size <= 0 || size === 0x7fffffff) {
          if (r.bufferTotalSize === 0 && picked.phy.length === 0)
            r.status = GetMessageStatus.MESSAGE_WAS_REMOVING;
          nextFileStart = this.commitLog.rollNextFile(phy);
          continue;
        }
        picked.phy.push(phy);
        picked.size.push(size);
        picked.qo.push(index + i / CQ_STORE_UNIT_SIZE);
        total += size;
      }
      const consumedUnits = i / CQ_STORE_UNIT_SIZE;
      const stoppedAt = await this.readPicked(picked, r, `${group}\u0001${topic}\u0001${queueId}`, filter);
      if (stoppedAt !== undefined) {
        index = stoppedAt;
        break;
      }
      scanned += consumedUnits;
      index += consumedUnits;
      if (units.length < CQ_STORE_UNIT_SIZE) break;
    }
    r.nextBeginOffset = index;
    const diff = maxPy - maxPhyPulling;
    r.suggestPullingFromSlave = diff > this.inMemoryBytes();
    return r;
  }

  /**
   * Copies picked records out of read-ahead blocks into one buffer for this pull and serves views
   * of it; returns the queue offset to stop at when one cannot be read or fails its check.
   */
  private async readPicked(
    p: Picked,
    r: GetMessageResult,
    /** The reader: group, topic and queue. */
    stream: string,
    filter?: MessageFilter,
  ): Promise<number | undefined> {
    const n = p.phy.length;
    let total = 0;
    for (let k = 0; k < n; k++) total += p.size[k]!;
    if (total === 0) return undefined;
    const out = Buffer.allocUnsafe(total);
    let pos = 0;
    const cl = this.commitLog;
    let cachedFrom = -1;
    let cachedTo = -1;
    for (let k = 0; k < n; k++) {
      const phy = p.phy[k]!;
      const size = p.size[k]!;
      // The newest records are still in the writer's staging memory: copied straight from there
      // and not checked again (this process sealed them; they never came back from a device).
      const recent = cl.copyRecent(phy, size, out, pos);
      if (!recent) {
        if (cachedFrom < 0) cachedFrom = phy;
        cachedTo = phy + size;
      }
      if (!recent && !this.cache.copy(phy, size, out, pos)) {
        // Read ahead from here at least to the end of the last picked record in this segment.
        const segEnd = this.commitLog.rollNextFile(phy);
        let end = phy + size;
        for (let j = k + 1; j < n && p.phy[j]! + p.size[j]! <= segEnd; j++)
          end = Math.max(end, p.phy[j]! + p.size[j]!);
        if (!(await this.cache.fill(phy, size, end - phy, stream, out, pos))) {
          if (r.bufferTotalSize === 0) r.status = GetMessageStatus.MESSAGE_WAS_REMOVING;
          return p.qo[k];
        }
      }
      if (!recent && !verifyRecordForRead(out, pos, size, this.cfg.forceVerifyPropCRC)) {
        this.log.error(
          { phyOffset: phy, size, queueOffset: p.qo[k] },
          'record failed its CRC on read; not served',
        );
        return p.qo[k];
      }
      const rec = out.subarray(pos, pos + size);
      pos += size;
      if (filter?.isMatchedByCommitLog && !filter.isMatchedByCommitLog(rec)) continue;
      r.messages.push(rec);
      r.queueOffsets.push(p.qo[k]!);
      r.bufferTotalSize += size;
      r.status = GetMessageStatus.FOUND;
    }
    if (cachedFrom >= 0) this.cache.servedUpTo(cachedTo, cachedTo - cachedFrom, stream);
    return undefined;
  }
}
