/**
 * Encodes a message straight into the CommitLog's staging buffer in the stored layout
 * (common/message/message-record.ts) followed, when enabled, by the whole-record CRC property
 * (record-crc.ts). Validation happens first (prepare), encoding afterwards at the offset the
 * CommitLog assigns, with nothing asynchronous in between.
 */
import { crc32 } from 'node:zlib';
import { MESSAGE_MAGIC_CODE } from '../../common/message/message-record.js';
import { MessageSysFlag } from '../../common/message/message-sysflag.js';
import {
  MAX_PROPERTIES_BYTES,
  decodeProperties,
  encodeProperties,
} from '../../common/message/message-properties.js';
import { encodeSocketAddr } from '../../common/socket-address.js';
import { writeInt64 } from '../../common/int64.js';
import { CRC32_PROPERTY, CRC32_RESERVED_LEN, writeCrcProperty } from './record-crc.js';
import { PutMessageStatus } from '../store-types.js';
import type { MessageToStore } from '../store-types.js';

export const MAX_TOPIC_BYTES = 127;

/** A message checked and measured, ready to be encoded at any offset. */
export interface PreparedMessage {
  msg: MessageToStore;
  topicBytes: Buffer;
  bornHost: Buffer;
  /** Properties without any incoming CRC property. */
  props: string;
  propsBytes: number;
  needSeparator: boolean;
  propsTotal: number;
  sysFlag: number;
  bodyCrc: number;
  size: number;
}

export type PrepareResult = PreparedMessage | { status: PutMessageStatus; remark: string };

const topicCache = new Map<string, Buffer>();

export function topicBytes(topic: string): Buffer {
  let b = topicCache.get(topic);
  if (!b) {
    b = Buffer.from(topic, 'utf8');
    if (topicCache.size > 10000) topicCache.clear();
    topicCache.set(topic, b);
  }
  return b;
}

/** Removes a `__CRC32#` property a client may have sent (the store writes its own). Rare path. */
function stripCrcProperty(props: string): string {
  const map = decodeProperties(props);
  if (!map.delete(CRC32_PROPERTY)) return props;
  return encodeProperties(map);
}

export class RecordEncoder {
  readonly storeHost: Buffer;
  private readonly storeHostV6: boolean;

  constructor(
    storeHost: Buffer,
    private readonly maxMessageSize: number,
    private readonly appendCrc: boolean,
  ) {
    this.storeHost = storeHost;
    this.storeHostV6 = storeHost.length === 20;
  }

  prepare(msg: MessageToStore): PrepareResult {
    const tb = topicBytes(msg.topic);
    if (tb.length === 0 || tb.length > MAX_TOPIC_BYTES) {
      return {
        status: PutMessageStatus.MESSAGE_ILLEGAL,
        remark: `topic length ${tb.length} not in 1..127 bytes`,
      };
    }
    if (!Number.isInteger(msg.queueId) || msg.queueId < 0) {
      return { status: PutMessageStatus.MESSAGE_ILLEGAL, remark: `bad queue id ${msg.queueId}` };
    }
    if (!(msg.body instanceof Uint8Array)) {
      return { status: PutMessageStatus.MESSAGE_ILLEGAL, remark: 'body is not a buffer' };
    }
    let bornHost: Buffer;
    try {
      bornHost = Buffer.isBuffer(msg.bornHost) ? msg.bornHost : encodeSocketAddr(msg.bornHost);
    } catch {
      return { status: PutMessageStatus.MESSAGE_ILLEGAL, remark: 'bad born host' };
    }
    if (bornHost.length !== 8 && bornHost.length !== 20) {
      return { status: PutMessageStatus.MESSAGE_ILLEGAL, remark: 'born host must be 8 or 20 bytes' };
    }
    let props = typeof msg.properties === 'string' ? msg.properties : '';
    if (this.appendCrc && props.includes(CRC32_PROPERTY)) props = stripCrcProperty(props);
    const propsBytes = Buffer.byteLength(props, 'utf8');
    const needSeparator = this.appendCrc && propsBytes > 0 && props.charCodeAt(props.length - 1) !== 2;
    const propsTotal = propsBytes + (needSeparator ? 1 : 0) + (this.appendCrc ? CRC32_RESERVED_LEN : 0);
    if (propsTotal > MAX_PROPERTIES_BYTES) {
      return {
        status: PutMessageStatus.PROPERTIES_SIZE_EXCEEDED,
        remark: `properties ${propsTotal} bytes > ${MAX_PROPERTIES_BYTES}`,
      };
    }
    let sysFlag = msg.sysFlag | 0;
    sysFlag =
      bornHost.length === 20
        ? sysFlag | MessageSysFlag.BORNHOST_V6_FLAG
        : sysFlag & ~MessageSysFlag.BORNHOST_V6_FLAG;
    sysFlag = this.storeHostV6
      ? sysFlag | MessageSysFlag.STOREHOSTADDRESS_V6_FLAG
      : sysFlag & ~MessageSysFlag.STOREHOSTADDRESS_V6_FLAG;
    const size =
      4 +
      4 +
      4 +
      4 +
      4 +
      8 +
      8 +
      4 +
      8 +
      bornHost.length +
      8 +
      this.storeHost.length +
      4 +
      8 +
      4 +
      msg.body.length +
      1 +
      tb.length +
      2 +
      propsTotal;
    if (size > this.maxMessageSize) {
      return {
        status: PutMessageStatus.MESSAGE_ILLEGAL,
        remark: `message size ${size} > maxMessageSize ${this.maxMessageSize}`,
      };
    }
    return {
      msg,
      topicBytes: tb,
      bornHost,
      props,
      propsBytes,
      needSeparator,
      propsTotal,
      sysFlag,
      bodyCrc: crc32(msg.body) & 0x7fffffff,
      size,
    };
  }

  /** Writes the record at buf[pos]; returns its size (p.size). */
  encode(
    buf: Buffer,
    pos: number,
    p: PreparedMessage,
    phyOffset: number,
    queueOffset: number,
    storeTs: number,
  ): number {
    const m = p.msg;
    buf.writeInt32BE(p.size, pos);
    buf.writeInt32BE(MESSAGE_MAGIC_CODE, pos + 4);
    buf.writeInt32BE(p.bodyCrc, pos + 8);
    buf.writeInt32BE(m.queueId, pos + 12);
    buf.writeInt32BE(m.flag | 0, pos + 16);
    writeInt64(buf, pos + 20, queueOffset);
    writeInt64(buf, pos + 28, phyOffset);
    buf.writeInt32BE(p.sysFlag, pos + 36);
    writeInt64(buf, pos + 40, m.bornTimestamp);
    let q = pos + 48;
    q += p.bornHost.copy(buf, q);
    writeInt64(buf, q, storeTs);
    q += 8;
    q += this.storeHost.copy(buf, q);
    buf.writeInt32BE(m.reconsumeTimes ?? 0, q);
    writeInt64(buf, q + 4, m.preparedTransactionOffset ?? 0);
    q += 12;
    buf.writeInt32BE(m.body.length, q);
    q += 4;
    buf.set(m.body, q);
    q += m.body.length;
    buf[q++] = p.topicBytes.length;
    q += p.topicBytes.copy(buf, q);
    buf.writeInt16BE(p.propsTotal, q);
    q += 2;
    if (p.propsBytes > 0) q += buf.write(p.props, q, p.propsBytes, 'utf8');
    if (p.needSeparator) buf[q++] = 2;
    if (this.appendCrc) {
      const crc = crc32(new Uint8Array(buf.buffer, buf.byteOffset + pos, q - pos)) & 0x7fffffff;
      writeCrcProperty(buf, q, crc);
    }
    return p.size;
  }
}
