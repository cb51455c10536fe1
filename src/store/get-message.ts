/**
 * Reading a queue (upstream DefaultMessageStore.getMessage): ConsumeQueue units from `offset`, tag
 * filter on the unit's tagsCode, then the records from the CommitLog, read as one span when they
 * lie close together and handed out as views into it (no per-message copy). Batch limits follow
 * upstream: maxTransfer{Bytes,Count}OnMessageIn{Memory,Disk}, where "in disk" means the record is
 * further behind the CommitLog head than accessMessageInMemoryMaxRatio of physical memory.
 * A record that fails its CRC is never served: the read stops before it and logs it.
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

const MAX_SPAN_WASTE = 64 * 1024;
const memory = totalmem();

export class MessageReader {
  constructor(
    private readonly cfg: MessageStoreConfig,
    private readonly commitLog: CommitLog,
    private readonly cqs: ConsumeQueueStore,
    private readonly log: Logger,
  ) {}

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
      // Pick the units to serve from this block, then read their records in as few spans as possible.
      const picked: { phy: number; size: number; qo: number }[] = [];
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
            r.messages.length + picked.length,
            this.checkInDiskByCommitOffset(phy),
          )
        ) {
          done = true;
          break;
        }
        if (filter && !filter.isMatchedByConsumeQueue(tags)) continue;
        if (phy < clMin || size <= 0 || size === 0x7fffffff) {
          if (r.bufferTotalSize === 0 && picked.length === 0)
            r.status = GetMessageStatus.MESSAGE_WAS_REMOVING;
          nextFileStart = this.commitLog.rollNextFile(phy);
          continue;
        }
        picked.push({ phy, size, qo: index + i / CQ_STORE_UNIT_SIZE });
        total += size;
      }
      const consumedUnits = i / CQ_STORE_UNIT_SIZE;
      const stoppedAt = await this.readPicked(picked, r, filter);
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

  /** Reads picked records into `r`; returns the queue offset to stop at when one fails its check. */
  private async readPicked(
    picked: { phy: number; size: number; qo: number }[],
    r: GetMessageResult,
    filter?: MessageFilter,
  ): Promise<number | undefined> {
    let k = 0;
    while (k < picked.length) {
      // Grow a span while the next record follows closely and stays in the same segment.
      const first = picked[k]!;
      let end = first.phy + first.size;
      let j = k + 1;
      const segEnd = this.commitLog.rollNextFile(first.phy);
      while (j < picked.length) {
        const p = picked[j]!;
        if (p.phy < end || p.phy + p.size > segEnd || p.phy - end > MAX_SPAN_WASTE) break;
        end = p.phy + p.size;
        j++;
      }
      const span = await this.commitLog.read(first.phy, end - first.phy);
      if (!span) {
        if (r.bufferTotalSize === 0) r.status = GetMessageStatus.MESSAGE_WAS_REMOVING;
        return first.qo;
      }
      for (let m = k; m < j; m++) {
        const p = picked[m]!;
        const rel = p.phy - first.phy;
        if (!verifyRecordForRead(span, rel, p.size, this.cfg.forceVerifyPropCRC)) {
          this.log.error(
            { phyOffset: p.phy, size: p.size, queueOffset: p.qo },
            'record failed its CRC on read; not served',
          );
          return p.qo;
        }
        const rec = span.subarray(rel, rel + p.size);
        if (filter?.isMatchedByCommitLog && !filter.isMatchedByCommitLog(rec)) continue;
        r.messages.push(rec);
        r.queueOffsets.push(p.qo);
        r.bufferTotalSize += p.size;
        r.status = GetMessageStatus.FOUND;
      }
      k = j;
    }
    return undefined;
  }
}
