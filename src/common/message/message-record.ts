/**
 * The stored message record: the CommitLog entry, and also each element of a PULL body and of
 * QUERY_MESSAGE / VIEW_MESSAGE_BY_ID bodies. All integers big-endian.
 *
 *   off  size  field
 *     0    4   TOTALSIZE            whole record, this field included
 *     4    4   MAGICCODE            0xDAA320A7 (message) / 0xCBD43194 (end-of-file filler)
 *     8    4   BODYCRC              CRC32(body as stored) & 0x7FFFFFFF
 *    12    4   QUEUEID
 *    16    4   FLAG                 user flag
 *    20    8   QUEUEOFFSET          logical offset in the consume queue
 *    28    8   PHYSICALOFFSET       byte offset of this record in the CommitLog
 *    36    4   SYSFLAG              MessageSysFlag (bits 0x10 / 0x20: born / store host is IPv6)
 *    40    8   BORNTIMESTAMP        ms
 *    48  8|20  BORNHOST             address + int32 port
 *     .    8   STORETIMESTAMP       ms
 *     .  8|20  STOREHOST
 *     .    4   RECONSUMETIMES
 *     .    8   PREPARED TRANSACTION OFFSET
 *     .  4+n   BODYLENGTH, BODY
 *     .  1+n   TOPICLENGTH, TOPIC   (<= 127 bytes)
 *     .  2+n   PROPERTIESLENGTH, PROPERTIES (<= 32767 bytes)
 *
 * With IPv4 hosts the fixed part is 92 bytes (+4 body length, +1 topic length, +2 properties length).
 * Only the store writes records; clients and tools decode them.
 */
import { readInt64, writeInt64 } from '../int64.js';
import { decodeSocketAddr, encodeSocketAddr, type SocketAddr } from '../socket-address.js';
import { MessageSysFlag } from './message-sysflag.js';
import { decodeProperties, type MessageProperties } from './message-properties.js';

export const MESSAGE_MAGIC_CODE = -626843481; // 0xDAA320A7 as int32
export const BLANK_MAGIC_CODE = -875286124; // 0xCBD43194 as int32

export const Pos = {
  TOTAL_SIZE: 0,
  MAGIC: 4,
  BODY_CRC: 8,
  QUEUE_ID: 12,
  FLAG: 16,
  QUEUE_OFFSET: 20,
  PHYSICAL_OFFSET: 28,
  SYSFLAG: 36,
  BORN_TIMESTAMP: 40,
  BORN_HOST: 48,
} as const;

/** Bytes of a record given the lengths of its variable parts (hosts: 8 for IPv4, 20 for IPv6). */
export function recordLength(
  bodyLength: number,
  topicLength: number,
  propertiesLength: number,
  bornHostLength = 8,
  storeHostLength = 8,
): number {
  return (
    4 + // TOTALSIZE
    4 + // MAGICCODE
    4 + // BODYCRC
    4 + // QUEUEID
    4 + // FLAG
    8 + // QUEUEOFFSET
    8 + // PHYSICALOFFSET
    4 + // SYSFLAG
    8 + // BORNTIMESTAMP
    bornHostLength +
    8 + // STORETIMESTAMP
    storeHostLength +
    4 + // RECONSUMETIMES
    8 + // PREPARED TRANSACTION OFFSET
    4 +
    bodyLength +
    1 +
    topicLength +
    2 +
    propertiesLength
  );
}

/** Everything needed to write one record. Hosts come pre-encoded (8 or 20 bytes). */
export interface RecordFields {
  bodyCRC: number;
  queueId: number;
  flag: number;
  queueOffset: number;
  physicalOffset: number;
  sysFlag: number;
  bornTimestamp: number;
  bornHost: Buffer;
  storeTimestamp: number;
  storeHost: Buffer;
  reconsumeTimes: number;
  preparedTransactionOffset: number;
  body: Buffer;
  /** UTF-8 topic bytes. */
  topic: Buffer;
  /** UTF-8 properties bytes. */
  properties: Buffer;
}

/**
 * Writes a record at `pos` and returns its length. The caller has checked that it fits and that
 * the sysflag's host bits agree with the host buffers' lengths.
 */
export function encodeRecord(buf: Buffer, pos: number, f: RecordFields): number {
  const total = recordLength(
    f.body.length,
    f.topic.length,
    f.properties.length,
    f.bornHost.length,
    f.storeHost.length,
  );
  buf.writeInt32BE(total, pos);
  buf.writeInt32BE(MESSAGE_MAGIC_CODE, pos + 4);
  buf.writeInt32BE(f.bodyCRC, pos + 8);
  buf.writeInt32BE(f.queueId, pos + 12);
  buf.writeInt32BE(f.flag, pos + 16);
  writeInt64(buf, pos + 20, f.queueOffset);
  writeInt64(buf, pos + 28, f.physicalOffset);
  buf.writeInt32BE(f.sysFlag, pos + 36);
  writeInt64(buf, pos + 40, f.bornTimestamp);
  let p = pos + 48;
  p += f.bornHost.copy(buf, p);
  writeInt64(buf, p, f.storeTimestamp);
  p += 8;
  p += f.storeHost.copy(buf, p);
  buf.writeInt32BE(f.reconsumeTimes, p);
  p += 4;
  writeInt64(buf, p, f.preparedTransactionOffset);
  p += 8;
  buf.writeInt32BE(f.body.length, p);
  p += 4;
  p += f.body.copy(buf, p);
  buf.writeUInt8(f.topic.length, p);
  p += 1;
  p += f.topic.copy(buf, p);
  buf.writeInt16BE(f.properties.length, p);
  p += 2;
  f.properties.copy(buf, p);
  return total;
}

/** A decoded stored message (upstream's MessageExt). */
export interface MessageExt {
  topic: string;
  flag: number;
  body: Buffer;
  properties: MessageProperties;
  queueId: number;
  storeSize: number;
  queueOffset: number;
  sysFlag: number;
  bornTimestamp: number;
  bornHost: SocketAddr;
  storeTimestamp: number;
  storeHost: SocketAddr;
  /** offsetMsgId: store host + physical offset. */
  msgId: string;
  commitLogOffset: number;
  bodyCRC: number;
  reconsumeTimes: number;
  preparedTransactionOffset: number;
}

/** Offsets of the variable fields inside one record, for readers that need only some of them. */
export interface RecordView {
  totalSize: number;
  magic: number;
  sysFlag: number;
  bornHostLength: number;
  storeTimestampPos: number;
  storeHostPos: number;
  storeHostLength: number;
  reconsumeTimesPos: number;
  bodyLengthPos: number;
  bodyLength: number;
  topicLengthPos: number;
  topicLength: number;
  propertiesLengthPos: number;
  propertiesLength: number;
}

/**
 * Locates the fields of the record at `pos`, checking that every length stays inside `totalSize`
 * and the buffer. Returns undefined for anything malformed (never throws on bad bytes).
 */
export function viewRecord(buf: Buffer, pos: number): RecordView | undefined {
  if (pos + 8 > buf.length) return undefined;
  const totalSize = buf.readInt32BE(pos);
  const magic = buf.readInt32BE(pos + 4);
  if (magic !== MESSAGE_MAGIC_CODE) return undefined;
  const end = pos + totalSize;
  if (totalSize < recordLength(0, 0, 0) || end > buf.length) return undefined;
  const sysFlag = buf.readInt32BE(pos + 36);
  const bornHostLength = sysFlag & MessageSysFlag.BORNHOST_V6_FLAG ? 20 : 8;
  const storeHostLength = sysFlag & MessageSysFlag.STOREHOSTADDRESS_V6_FLAG ? 20 : 8;
  const storeTimestampPos = pos + 48 + bornHostLength;
  const storeHostPos = storeTimestampPos + 8;
  const reconsumeTimesPos = storeHostPos + storeHostLength;
  const bodyLengthPos = reconsumeTimesPos + 12;
  if (bodyLengthPos + 4 > end) return undefined;
  const bodyLength = buf.readInt32BE(bodyLengthPos);
  const topicLengthPos = bodyLengthPos + 4 + bodyLength;
  if (bodyLength < 0 || topicLengthPos + 1 > end) return undefined;
  const topicLength = buf.readUInt8(topicLengthPos);
  const propertiesLengthPos = topicLengthPos + 1 + topicLength;
  if (propertiesLengthPos + 2 > end) return undefined;
  const propertiesLength = buf.readInt16BE(propertiesLengthPos);
  if (propertiesLength < 0 || propertiesLengthPos + 2 + propertiesLength > end) return undefined;
  return {
    totalSize,
    magic,
    sysFlag,
    bornHostLength,
    storeTimestampPos,
    storeHostPos,
    storeHostLength,
    reconsumeTimesPos,
    bodyLengthPos,
    bodyLength,
    topicLengthPos,
    topicLength,
    propertiesLengthPos,
    propertiesLength,
  };
}

/** Decodes the record at `pos`; undefined when it is malformed. The body is copied out. */
export function decodeRecord(buf: Buffer, pos: number): MessageExt | undefined {
  const v = viewRecord(buf, pos);
  if (!v) return undefined;
  const bodyStart = v.bodyLengthPos + 4;
  const topicStart = v.topicLengthPos + 1;
  const propsStart = v.propertiesLengthPos + 2;
  const storeHost = decodeSocketAddr(buf, v.storeHostPos, v.storeHostLength === 20);
  const commitLogOffset = readInt64(buf, pos + Pos.PHYSICAL_OFFSET);
  return {
    storeSize: v.totalSize,
    bodyCRC: buf.readInt32BE(pos + Pos.BODY_CRC),
    queueId: buf.readInt32BE(pos + Pos.QUEUE_ID),
    flag: buf.readInt32BE(pos + Pos.FLAG),
    queueOffset: readInt64(buf, pos + Pos.QUEUE_OFFSET),
    commitLogOffset,
    sysFlag: v.sysFlag,
    bornTimestamp: readInt64(buf, pos + Pos.BORN_TIMESTAMP),
    bornHost: decodeSocketAddr(buf, pos + Pos.BORN_HOST, v.bornHostLength === 20),
    storeTimestamp: readInt64(buf, v.storeTimestampPos),
    storeHost,
    reconsumeTimes: buf.readInt32BE(v.reconsumeTimesPos),
    preparedTransactionOffset: readInt64(buf, v.reconsumeTimesPos + 4),
    body: Buffer.from(buf.subarray(bodyStart, bodyStart + v.bodyLength)),
    topic: buf.toString('utf8', topicStart, topicStart + v.topicLength),
    properties: decodeProperties(buf.toString('utf8', propsStart, propsStart + v.propertiesLength)),
    msgId: offsetMsgIdOf(buf, v.storeHostPos, v.storeHostLength, pos + Pos.PHYSICAL_OFFSET),
  };
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).toUpperCase().padStart(2, '0'));

/**
 * createOffsetMsgId of a stored record, read straight from its bytes (store host, then the
 * physical offset as written): no buffer and no case conversion per message received.
 */
function offsetMsgIdOf(buf: Buffer, hostPos: number, hostLength: number, offsetPos: number): string {
  let id = '';
  for (let i = 0; i < hostLength; i++) id += HEX[buf[hostPos + i]!]!;
  for (let i = 0; i < 8; i++) id += HEX[buf[offsetPos + i]!]!;
  return id;
}

/** Decodes consecutive records (a PULL or QUERY body). Stops at the first malformed record. */
export function decodeRecords(buf: Buffer): MessageExt[] {
  const out: MessageExt[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const m = decodeRecord(buf, pos);
    if (!m) break;
    out.push(m);
    pos += m.storeSize;
  }
  return out;
}

/**
 * Encodes a decoded message back into the record layout (what a broker sends as the body of
 * CHECK_TRANSACTION_STATE, after changing the topic back to the real one).
 */
export function encodeMessageExt(m: MessageExt, encodeProperties: (p: MessageProperties) => string): Buffer {
  const topic = Buffer.from(m.topic, 'utf8');
  const properties = Buffer.from(encodeProperties(m.properties), 'utf8');
  const bornHost = encodeSocketAddr(m.bornHost);
  const storeHost = encodeSocketAddr(m.storeHost);
  let sysFlag = m.sysFlag & ~(MessageSysFlag.BORNHOST_V6_FLAG | MessageSysFlag.STOREHOSTADDRESS_V6_FLAG);
  if (bornHost.length === 20) sysFlag |= MessageSysFlag.BORNHOST_V6_FLAG;
  if (storeHost.length === 20) sysFlag |= MessageSysFlag.STOREHOSTADDRESS_V6_FLAG;
  const buf = Buffer.allocUnsafe(
    recordLength(m.body.length, topic.length, properties.length, bornHost.length, storeHost.length),
  );
  encodeRecord(buf, 0, {
    bodyCRC: m.bodyCRC,
    queueId: m.queueId,
    flag: m.flag,
    queueOffset: m.queueOffset,
    physicalOffset: m.commitLogOffset,
    sysFlag,
    bornTimestamp: m.bornTimestamp,
    bornHost,
    storeTimestamp: m.storeTimestamp,
    storeHost,
    reconsumeTimes: m.reconsumeTimes,
    preparedTransactionOffset: m.preparedTransactionOffset,
    body: m.body,
    topic,
    properties,
  });
  return buf;
}
