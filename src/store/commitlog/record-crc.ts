/**
 * The whole-record CRC, laid out as RocketMQ 5.x does it (`enabledAppendPropCRC`), so upstream
 * tools that check it (`forceVerifyPropCRC`) accept our records and older readers simply see one
 * more property. The last 20 bytes of the record's properties are
 *
 *   off  size  bytes
 *     0    8   "__CRC32#"            property name (MessageConst.PROPERTY_CRC32)
 *     8    1   0x01                  name/value separator
 *     9   10   ASCII digits          the CRC, least significant digit FIRST, '0'-padded on the right
 *    19    1   0x02                  property separator
 *
 * and a 0x02 is inserted before them when the message's own properties are non-empty and do not
 * already end with one. The CRC is CRC32 & 0x7FFFFFFF (UtilAll.crc32) over the record's bytes from
 * TOTALSIZE up to, not including, these 20 bytes, computed after the store has filled in queue
 * offset, physical offset and store timestamp. Digits in reverse order are upstream's
 * (MessageDecoder.createCrc32 emits `crc % 10` first; CommitLog.checkMessageAndReturnSize reads
 * them back from the end) and must stay so for compatibility.
 */
import { crc32 } from 'node:zlib';

export const CRC32_PROPERTY = '__CRC32#';
export const CRC32_RESERVED_LEN = CRC32_PROPERTY.length + 1 + 10 + 1;

const NAME_BYTES = Buffer.from(CRC32_PROPERTY + '\u0001', 'latin1');
/** The property with the CRC still unknown (all '0' digits): what the encoder writes before sealing. */
const PLACEHOLDER = Buffer.from(CRC32_PROPERTY + '\u00010000000000\u0002', 'latin1');

/** UtilAll.crc32: CRC32 with the sign bit cleared. */
export function rmqCrc32(data: Uint8Array): number {
  return crc32(data) & 0x7fffffff;
}

/** Writes the 20-byte CRC property at `pos`. */
export function writeCrcProperty(buf: Buffer, pos: number, crc: number): void {
  if (crc === 0) {
    buf.set(PLACEHOLDER, pos);
    return;
  }
  NAME_BYTES.copy(buf, pos);
  let v = crc;
  let p = pos + 9;
  for (let i = 0; i < 10; i++) {
    buf[p++] = 48 + (v % 10);
    v = Math.floor(v / 10);
  }
  buf[p] = 2;
}

/** readCrcProperty: the record ends with something that is almost a CRC property (damaged). */
export const CRC_PROPERTY_DAMAGED = -2;

/**
 * The CRC stored in the last 20 bytes of a record [pos, pos+size); -1 when the record does not end
 * with a CRC property (an upstream record written without one); CRC_PROPERTY_DAMAGED when those
 * bytes differ from a CRC property in only a few places (a flipped byte there must not turn a
 * protected record into an unprotected one).
 */
export function readCrcProperty(buf: Buffer, pos: number, size: number): number {
  if (size < CRC32_RESERVED_LEN) return -1;
  const at = pos + size - CRC32_RESERVED_LEN;
  let nameMismatches = 0;
  for (let i = 0; i < NAME_BYTES.length; i++) if (buf[at + i] !== NAME_BYTES[i]) nameMismatches++;
  let mismatches = nameMismatches + (buf[at + 19] === 2 ? 0 : 1);
  let v = 0;
  for (let i = 9; i >= 0; i--) {
    const d = buf[at + 9 + i]! - 48;
    if (d < 0 || d > 9) mismatches++;
    else v = v * 10 + d;
  }
  if (mismatches === 0) return v;
  // A mostly intact name, or a tail of zeros (a record cut short), is a damaged CRC property.
  if (nameMismatches <= 2 || mismatches <= 3 || buf[pos + size - 1] === 0) return CRC_PROPERTY_DAMAGED;
  return -1;
}

/** CRC of the record's bytes covered by its CRC property. */
export function computeRecordCrc(buf: Buffer, pos: number, size: number): number {
  return rmqCrc32(new Uint8Array(buf.buffer, buf.byteOffset + pos, size - CRC32_RESERVED_LEN));
}
