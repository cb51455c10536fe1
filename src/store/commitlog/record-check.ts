/**
 * Checking one CommitLog entry read back from disk (upstream CommitLog.checkMessageAndReturnSize),
 * for recovery and for the dispatcher when it follows bytes it did not append itself (recovery,
 * replication). An entry is trusted only if its magic is known, every length adds up to TOTALSIZE,
 * PHYSICALOFFSET equals where it was found, and its CRC holds: the whole-record CRC property when
 * present (record-crc.ts), else the body CRC. Never throws on bad bytes.
 */
import {
  BLANK_MAGIC_CODE,
  MESSAGE_MAGIC_CODE,
  Pos,
  viewRecord,
} from '../../common/message/message-record.js';
import { readInt64 } from '../../common/int64.js';
import { getProperty } from '../../common/message/message-properties.js';
import { MessageProperty } from '../../common/message/message-const.js';
import { CRC_PROPERTY_DAMAGED, computeRecordCrc, readCrcProperty, rmqCrc32 } from './record-crc.js';

/** What the dispatcher needs to know of a stored message (upstream DispatchRequest). */
export interface DispatchRequest {
  topic: string;
  queueId: number;
  commitLogOffset: number;
  msgSize: number;
  tagsCode: number;
  storeTimestamp: number;
  consumeQueueOffset: number;
  keys: string | undefined;
  uniqKey: string | undefined;
  sysFlag: number;
  /** The encoded properties (index keys are hashed from it). */
  properties: string;
}

export type TagsCodeFn = (topic: string, properties: string, storeTimestamp: number) => number;

export type CheckResult =
  | { kind: 'message'; size: number; dispatch: DispatchRequest }
  | { kind: 'blank'; size: number }
  /** Zeros where a record would start: the end of the written data. */
  | { kind: 'end' }
  /** The record continues past the bytes given; read `size` bytes from its start and retry. */
  | { kind: 'need'; size: number }
  | { kind: 'bad'; reason: string };

export interface CheckOptions {
  checkCrc: boolean;
  /** Require the whole-record CRC property (5.x forceVerifyPropCRC). */
  requireRecordCrc: boolean;
  maxRecordSize: number;
  tagsCode: TagsCodeFn;
}

/**
 * Checks the entry at buf[pos] whose absolute CommitLog offset is `phyOffset`; `avail` bytes
 * from pos are valid in buf.
 */
export function checkRecord(
  buf: Buffer,
  pos: number,
  avail: number,
  phyOffset: number,
  opts: CheckOptions,
): CheckResult {
  if (avail < 8) {
    for (let i = 0; i < avail; i++) if (buf[pos + i] !== 0) return { kind: 'bad', reason: 'trailing bytes' };
    return { kind: 'end' };
  }
  const totalSize = buf.readInt32BE(pos);
  const magic = buf.readInt32BE(pos + 4);
  if (totalSize === 0 && magic === 0) return { kind: 'end' };
  if (magic === BLANK_MAGIC_CODE) {
    if (totalSize < 8) return { kind: 'bad', reason: `blank filler with size ${totalSize}` };
    return { kind: 'blank', size: totalSize };
  }
  if (magic !== MESSAGE_MAGIC_CODE)
    return { kind: 'bad', reason: `bad magic code 0x${(magic >>> 0).toString(16)}` };
  if (totalSize <= 0 || totalSize > opts.maxRecordSize)
    return { kind: 'bad', reason: `bad total size ${totalSize}` };
  if (totalSize > avail) return { kind: 'need', size: totalSize };
  const v = viewRecord(buf, pos);
  if (!v) return { kind: 'bad', reason: 'field lengths exceed the record' };
  if (v.propertiesLengthPos + 2 + v.propertiesLength !== pos + totalSize) {
    return { kind: 'bad', reason: 'field lengths do not add up to the total size' };
  }
  if (readInt64(buf, pos + Pos.PHYSICAL_OFFSET) !== phyOffset) {
    return { kind: 'bad', reason: 'physical offset field does not match the position' };
  }
  if (opts.checkCrc) {
    const stored = readCrcProperty(buf, pos, totalSize);
    if (stored === CRC_PROPERTY_DAMAGED) return { kind: 'bad', reason: 'record CRC property damaged' };
    if (stored >= 0) {
      const actual = computeRecordCrc(buf, pos, totalSize);
      if (actual !== stored)
        return { kind: 'bad', reason: `record CRC mismatch (stored ${stored}, actual ${actual})` };
    } else if (opts.requireRecordCrc) {
      return { kind: 'bad', reason: 'record CRC property missing' };
    } else {
      const bodyStart = v.bodyLengthPos + 4;
      const actual = rmqCrc32(new Uint8Array(buf.buffer, buf.byteOffset + bodyStart, v.bodyLength));
      const stored = buf.readInt32BE(pos + Pos.BODY_CRC);
      if (actual !== stored)
        return { kind: 'bad', reason: `body CRC mismatch (stored ${stored}, actual ${actual})` };
    }
  }
  const topicStart = v.topicLengthPos + 1;
  const topic = buf.toString('utf8', topicStart, topicStart + v.topicLength);
  const propsStart = v.propertiesLengthPos + 2;
  const props = buf.toString('utf8', propsStart, propsStart + v.propertiesLength);
  const storeTimestamp = readInt64(buf, v.storeTimestampPos);
  return {
    kind: 'message',
    size: totalSize,
    dispatch: {
      topic,
      queueId: buf.readInt32BE(pos + Pos.QUEUE_ID),
      commitLogOffset: phyOffset,
      msgSize: totalSize,
      tagsCode: opts.tagsCode(topic, props, storeTimestamp),
      storeTimestamp,
      consumeQueueOffset: readInt64(buf, pos + Pos.QUEUE_OFFSET),
      keys: getProperty(props, MessageProperty.KEYS),
      uniqKey: getProperty(props, MessageProperty.UNIQ_CLIENT_MESSAGE_ID_KEYIDX),
      sysFlag: v.sysFlag,
      properties: props,
    },
  };
}

/**
 * Whether a record read for serving still holds: the whole-record CRC when present, else the
 * body CRC. Cheap enough for every read (one CRC pass over the record).
 */
export function verifyRecordForRead(
  buf: Buffer,
  pos: number,
  size: number,
  requireRecordCrc: boolean,
): boolean {
  if (size < 8 || pos + size > buf.length) return false;
  if (buf.readInt32BE(pos) !== size || buf.readInt32BE(pos + 4) !== MESSAGE_MAGIC_CODE) return false;
  const stored = readCrcProperty(buf, pos, size);
  if (stored === CRC_PROPERTY_DAMAGED) return false;
  if (stored >= 0) return computeRecordCrc(buf, pos, size) === stored;
  if (requireRecordCrc) return false;
  const v = viewRecord(buf, pos);
  if (!v) return false;
  const bodyStart = v.bodyLengthPos + 4;
  return (
    rmqCrc32(new Uint8Array(buf.buffer, buf.byteOffset + bodyStart, v.bodyLength)) ===
    buf.readInt32BE(pos + Pos.BODY_CRC)
  );
}
