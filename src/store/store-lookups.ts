/**
 * Lookups that are not pulls (upstream DefaultMessageStore's query side): a ConsumeQueue unit, a
 * record by CommitLog offset (CRC-checked), store times, the queue offset for a time, messages by
 * key through the index. MessageStore exposes them; they only read.
 */
import { readInt64 } from '../common/int64.js';
import { MessageProperty } from '../common/message/message-const.js';
import { decodeRecord, type MessageExt } from '../common/message/message-record.js';
import type { CommitLog } from './commitlog/commitlog.js';
import { verifyRecordForRead } from './commitlog/record-check.js';
import type { ConsumeQueueStore } from './consume-queue/consume-queue-store.js';
import type { IndexService } from './index/index-service.js';
import type { MessageStoreConfig } from './message-store-config.js';
import type { QueryMessageResult } from './store-types.js';

export class StoreLookups {
  constructor(
    private readonly config: MessageStoreConfig,
    private readonly commitLog: CommitLog,
    private readonly consumeQueues: ConsumeQueueStore,
    private readonly index: IndexService | undefined,
    private readonly maxRecordSize: number,
  ) {}

  /** The unit at `offset`: [commitLogOffset, size, tagsCode], or undefined. */
  async getUnit(
    topic: string,
    queueId: number,
    offset: number,
  ): Promise<[number, number, number] | undefined> {
    const cq = this.consumeQueues.find(topic, queueId);
    if (!cq || offset < cq.minOffset || offset >= cq.maxOffset) return undefined;
    const u = await cq.readUnits(offset, 1);
    if (!u || u.length < 20) return undefined;
    return [readInt64(u, 0), u.readInt32BE(8), readInt64(u, 12)];
  }

  async getMessageStoreTimeStamp(topic: string, queueId: number, offset: number): Promise<number> {
    const u = await this.getUnit(topic, queueId, offset);
    if (!u) return -1;
    return (await this.lookMessageByOffset(u[0], u[1]))?.storeTimestamp ?? -1;
  }

  /** Store time of the oldest message in the CommitLog, -1 when empty. */
  async getEarliestMessageTimeAll(): Promise<number> {
    return (await this.lookMessageByOffset(this.commitLog.minOffset()))?.storeTimestamp ?? -1;
  }

  /** The first queue offset whose message was stored at or after `timestamp` (maxOffset if none). */
  async getOffsetInQueueByTime(topic: string, queueId: number, timestamp: number): Promise<number> {
    const cq = this.consumeQueues.find(topic, queueId);
    if (!cq) return 0;
    let lo = cq.minOffset;
    let hi = cq.maxOffset;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const ts = await this.getMessageStoreTimeStamp(topic, queueId, mid);
      if (ts >= timestamp || ts < 0) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** The raw record at a CommitLog offset (size read from the record when not given); CRC-checked. */
  async lookMessageByOffsetRaw(phyOffset: number, size?: number): Promise<Buffer | undefined> {
    let len = size;
    if (len === undefined) {
      const head = await this.commitLog.read(phyOffset, 4);
      if (!head) return undefined;
      len = head.readInt32BE(0);
    }
    if (len <= 0 || len > this.maxRecordSize) return undefined;
    const rec = await this.commitLog.read(phyOffset, len);
    if (!rec || !verifyRecordForRead(rec, 0, len, this.config.forceVerifyPropCRC)) return undefined;
    return rec;
  }

  async lookMessageByOffset(phyOffset: number, size?: number): Promise<MessageExt | undefined> {
    const rec = await this.lookMessageByOffsetRaw(phyOffset, size);
    return rec ? decodeRecord(rec, 0) : undefined;
  }

  /** Messages whose key (KEYS word or UNIQ_KEY) is `key`, stored within [begin, end]. */
  async queryMessage(
    topic: string,
    key: string,
    maxNum: number,
    begin: number,
    end: number,
  ): Promise<QueryMessageResult> {
    const res: QueryMessageResult = {
      messages: [],
      phyOffsets: [],
      indexLastUpdateTimestamp: this.index?.lastUpdateTimestamp ?? 0,
      indexLastUpdatePhyoffset: this.index?.endPhyOffset ?? 0,
    };
    if (!this.index) return res;
    const offsets = await this.index.queryOffsets(
      topic,
      key,
      Math.min(maxNum, this.config.maxMsgsNumBatch),
      begin,
      end,
    );
    for (const off of offsets) {
      const m = await this.lookMessageByOffsetRaw(off);
      if (!m) continue;
      // Hash collisions and entries left by a cut tail: keep only records that really match.
      const msg = decodeRecord(m, 0);
      if (!msg || msg.topic !== topic) continue;
      const keys = (msg.properties.get(MessageProperty.KEYS) ?? '').split(' ');
      if (msg.properties.get(MessageProperty.UNIQ_CLIENT_MESSAGE_ID_KEYIDX) !== key && !keys.includes(key))
        continue;
      res.messages.push(m);
      res.phyOffsets.push(off);
    }
    return res;
  }
}
