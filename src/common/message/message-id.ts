/**
 * Message ids.
 * - offsetMsgId (the broker's id): uppercase hex of store host address (4 or 16 bytes) + port int32
 *   + commit-log physical offset int64: 32 hex chars for IPv4, 56 for IPv6.
 * - UNIQ_KEY (the client's id, property UNIQ_KEY): hex of client ip (4 bytes) + pid int16 +
 *   a per-process random int32, then ms since the start of the current month int32 + counter int16:
 *   32 hex chars. Upstream uses the class-loader hash where we use the random int32.
 */
import { randomInt } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { isIPv4 } from 'node:net';
import { decodeSocketAddr, encodeSocketAddr, type SocketAddr } from '../socket-address.js';
import { readInt64, writeInt64 } from '../int64.js';
import { RmqError, ErrorCode } from '../errors.js';

export function createOffsetMsgId(storeHost: SocketAddr | Buffer, physicalOffset: number): string {
  const host = Buffer.isBuffer(storeHost) ? storeHost : encodeSocketAddr(storeHost);
  const buf = Buffer.allocUnsafe(host.length + 8);
  host.copy(buf, 0);
  writeInt64(buf, host.length, physicalOffset);
  return buf.toString('hex').toUpperCase();
}

export interface DecodedMessageId {
  address: SocketAddr;
  offset: number;
}

export function decodeOffsetMsgId(msgId: string): DecodedMessageId {
  if (!/^[0-9A-Fa-f]+$/.test(msgId) || (msgId.length !== 32 && msgId.length !== 56)) {
    throw new RmqError(ErrorCode.ILLEGAL_ARGUMENT, `not an offset message id: ${msgId}`);
  }
  const buf = Buffer.from(msgId, 'hex');
  const v6 = msgId.length === 56;
  const address = decodeSocketAddr(buf, 0, v6);
  return { address, offset: readInt64(buf, v6 ? 20 : 8) };
}

function localIPv4(): Buffer {
  for (const list of Object.values(networkInterfaces())) {
    for (const ni of list ?? []) {
      if (ni.family === 'IPv4' && !ni.internal && isIPv4(ni.address)) {
        return Buffer.from(ni.address.split('.').map(Number));
      }
    }
  }
  return Buffer.from([127, 0, 0, 1]);
}

/** Uppercase hex of every byte value. */
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).toUpperCase().padStart(2, '0'));

/** Generates UNIQ_KEY ids; one per process is enough (`uniqIdGenerator`). */
export class UniqIdGenerator {
  private readonly prefix: string;
  private counter = 0;
  private monthStart = 0;
  private nextMonthStart = 0;
  private lastNow = -1;
  private timeHex = '';

  constructor(ip: Buffer = localIPv4()) {
    const fixed = Buffer.allocUnsafe(ip.length + 6);
    ip.copy(fixed, 0);
    fixed.writeUInt16BE(process.pid & 0xffff, ip.length);
    fixed.writeInt32BE(randomInt(-0x80000000, 0x7fffffff), ip.length + 2);
    this.prefix = fixed.toString('hex').toUpperCase();
    this.counter = randomInt(0, 0xffff);
  }

  next(now = Date.now()): string {
    if (now >= this.nextMonthStart) this.resetMonth(now);
    // Hex through a byte table, the time part cached per millisecond: this runs once per message
    // sent, and Buffer writes + toString('hex') + toUpperCase() showed in producer profiles.
    if (now !== this.lastNow) {
      this.lastNow = now;
      const t = ((now - this.monthStart) | 0) >>> 0;
      this.timeHex = HEX[t >>> 24]! + HEX[(t >>> 16) & 255]! + HEX[(t >>> 8) & 255]! + HEX[t & 255]!;
    }
    this.counter = (this.counter + 1) & 0xffff;
    return this.prefix + this.timeHex + HEX[this.counter >>> 8]! + HEX[this.counter & 255]!;
  }

  private resetMonth(now: number): void {
    const d = new Date(now);
    this.monthStart = new Date(d.getFullYear(), d.getMonth(), 1).getTime();
    this.nextMonthStart = new Date(d.getFullYear(), d.getMonth() + 1, 1).getTime();
    this.lastNow = -1;
  }
}

export const uniqIdGenerator = new UniqIdGenerator();
