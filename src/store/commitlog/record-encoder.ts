/**
 * Encodes a message straight into the CommitLog's staging buffer in the stored layout
 * (common/message/message-record.ts) followed, when enabled, by the whole-record CRC property
 * (record-crc.ts). Validation happens first (prepare), encoding afterwards at the offset the
 * CommitLog assigns, with nothing asynchronous in between.
 *
 * This is the hottest code of a put, so: fields go through a DataView (one bounds check and a byte
 * swap per field instead of Buffer.writeInt32BE's range checks), a single put reuses one
 * PreparedMessage (no object per put), and the CRCs are left to sealing (record-seal.ts): the
 * CommitLog seals staged records in bulk just before writing them, off the event loop when there
 * are many. Called on its own, encode seals the record it wrote.
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
import { setInt64 } from '../../common/int64.js';
import { CRC32_PROPERTY, CRC32_RESERVED_LEN, writeCrcProperty } from './record-crc.js';
import { crcShiftTable, sealRecords } from './record-seal.js';
import { PutMessageStatus } from '../store-types.js';
import type { MessageToStore } from '../store-types.js';

export const MAX_TOPIC_BYTES = 127;

const x2n = crcShiftTable();
const shiftOps = new Map<number, number>();

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
  size: number;
}

export type PrepareResult = PreparedMessage | { status: PutMessageStatus; remark: string };

const EMPTY = Buffer.alloc(0);

/** A PreparedMessage to fill in place (reused by the store's puts: prepare allocates nothing). */
export function emptyPrepared(): PreparedMessage {
  return {
    msg: undefined as unknown as MessageToStore,
    topicBytes: EMPTY,
    bornHost: EMPTY,
    props: '',
    propsBytes: 0,
    needSeparator: false,
    propsTotal: 0,
    sysFlag: 0,
    size: 0,
  };
}

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

/**
 * Buffer#utf8Write: what buf.write(s, pos, len, 'utf8') ends in, minus the argument juggling
 * (half the cost for a short properties string). Present in every Node version, absent from the types.
 */
type Utf8Writable = Buffer & { utf8Write(s: string, offset: number, length: number): number };

export class RecordEncoder {
  readonly storeHost: Buffer;
  private readonly storeHostV6: boolean;
  /** A DataView over the last buffer encoded into (staging chunks are long-lived). */
  private dvBuf: Buffer | undefined;
  private dv: DataView | undefined;

  constructor(
    storeHost: Buffer,
    private readonly maxMessageSize: number,
    private readonly appendCrc: boolean,
  ) {
    this.storeHost = storeHost;
    this.storeHostV6 = storeHost.length === 20;
  }

  /** Checks and measures `msg`, into `into` when given (no allocation), else a new object. */
  prepare(msg: MessageToStore, into?: PreparedMessage): PrepareResult {
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
    const propsBytes = props.length === 0 ? 0 : Buffer.byteLength(props, 'utf8');
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
    // TOTALSIZE..PREPARED TRANSACTION OFFSET without the hosts (68), hosts, BODYLENGTH + body,
    // TOPICLENGTH + topic, PROPERTIESLENGTH + properties.
    const size =
      68 + bornHost.length + this.storeHost.length + 4 + msg.body.length + 1 + tb.length + 2 + propsTotal;
    if (size > this.maxMessageSize) {
      return {
        status: PutMessageStatus.MESSAGE_ILLEGAL,
        remark: `message size ${size} > maxMessageSize ${this.maxMessageSize}`,
      };
    }
    const p = into ?? emptyPrepared();
    p.msg = msg;
    p.topicBytes = tb;
    p.bornHost = bornHost;
    p.props = props;
    p.propsBytes = propsBytes;
    p.needSeparator = needSeparator;
    p.propsTotal = propsTotal;
    p.sysFlag = sysFlag;
    p.size = size;
    return p;
  }

  private viewOf(buf: Buffer): DataView {
    if (this.dvBuf !== buf) {
      this.dvBuf = buf;
      this.dv = new DataView(buf.buffer, buf.byteOffset, buf.length);
    }
    return this.dv!;
  }

  /**
   * Writes the record at buf[pos]; returns its size (p.size). With `seal` false its CRCs stay
   * placeholders (BODYCRC 0, digits '0') for sealRecords to fill before the bytes are written.
   */
  encode(
    buf: Buffer,
    pos: number,
    p: PreparedMessage,
    phyOffset: number,
    queueOffset: number,
    storeTs: number,
    seal = true,
  ): number {
    if (pos + p.size > buf.length) throw new RangeError(`record of ${p.size} bytes does not fit at ${pos}`);
    const dv = this.viewOf(buf);
    const m = p.msg;
    const body = m.body;
    dv.setInt32(pos, p.size);
    dv.setInt32(pos + 4, MESSAGE_MAGIC_CODE);
    dv.setInt32(pos + 8, 0);
    dv.setInt32(pos + 12, m.queueId);
    dv.setInt32(pos + 16, m.flag | 0);
    setInt64(dv, pos + 20, queueOffset);
    setInt64(dv, pos + 28, phyOffset);
    dv.setInt32(pos + 36, p.sysFlag);
    setInt64(dv, pos + 40, m.bornTimestamp);
    let q = pos + 48;
    buf.set(p.bornHost, q);
    q += p.bornHost.length;
    setInt64(dv, q, storeTs);
    q += 8;
    buf.set(this.storeHost, q);
    q += this.storeHost.length;
    dv.setInt32(q, m.reconsumeTimes ?? 0);
    setInt64(dv, q + 4, m.preparedTransactionOffset ?? 0);
    q += 12;
    dv.setInt32(q, body.length);
    q += 4;
    // The staging buffers are shared memory, where TypedArray#set copies byte by byte unless source
    // and target happen to share their alignment (measured: 1.4 µs for 4 KiB); Buffer#fill with a
    // buffer value is one memcpy (0.2 µs).
    if (body.length >= 64) buf.fill(body, q, q + body.length);
    else buf.set(body, q);
    q += body.length;
    buf[q++] = p.topicBytes.length;
    buf.set(p.topicBytes, q);
    q += p.topicBytes.length;
    dv.setInt16(q, p.propsTotal);
    q += 2;
    if (p.propsBytes > 0) q += (buf as Utf8Writable).utf8Write(p.props, q, p.propsBytes);
    if (p.needSeparator) buf[q++] = 2;
    if (this.appendCrc) writeCrcProperty(buf, q, 0);
    if (seal) sealRecords(buf, pos, pos + p.size, this.appendCrc, crc32, x2n, shiftOps);
    return p.size;
  }
}
