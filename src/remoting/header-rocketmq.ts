/**
 * ROCKETMQ binary header (serialize type 1), big-endian:
 *   2  code (int16)
 *   1  language (byte, LanguageCode)
 *   2  version (int16)
 *   4  opaque (int32)
 *   4  flag (int32)
 *   4  remark length (int32, 0 = none), then remark UTF-8
 *   4  extFields length (int32, bytes of the whole map block), then repeated:
 *        key length (int16), key UTF-8, value length (int32), value UTF-8
 * Zero-length remark or values decode as absent/empty like 4.9.8 (remark) and 4.9.3 (values).
 */
import { RmqError, ErrorCode } from '../common/errors.js';
import {
  SerializeType,
  languageFromByte,
  languageToByte,
  type ExtFields,
  type RemotingCommand,
} from './remoting-command.js';

const FIXED = 2 + 1 + 2 + 4 + 4 + 4 + 4;

/** Upper bound of the encoded header's size (UTF-8 needs at most 3 bytes per UTF-16 unit). */
export function rocketMqHeaderMaxBytes(cmd: RemotingCommand): number {
  let n = FIXED + (cmd.remark ? cmd.remark.length * 3 : 0);
  const ext = cmd.extFields;
  if (ext) {
    for (const k in ext) {
      const v = ext[k];
      if (v === undefined || v === null) continue;
      n += 6 + (k.length + String(v).length) * 3;
    }
  }
  return n;
}

/**
 * Writes `s` as UTF-8 at `pos` and returns the byte count. Short ASCII strings (every header key
 * and most values) are copied in a loop: cheaper than a call into the native encoder.
 */
export function writeUtf8(buf: Buffer, s: string, pos: number): number {
  const n = s.length;
  if (n <= 64) {
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) return buf.write(s, pos, 'utf8');
      buf[pos + i] = c;
    }
    return n;
  }
  return buf.write(s, pos, 'utf8');
}

/**
 * Writes the header at `pos` of `buf` (room for rocketMqHeaderMaxBytes(cmd) bytes) and returns
 * its length. Lengths are written after their strings, so each string is encoded once.
 */
export function writeRocketMqHeader(cmd: RemotingCommand, buf: Buffer, pos: number): number {
  buf.writeInt16BE(cmd.code, pos);
  buf[pos + 2] = languageToByte(cmd.language);
  buf.writeInt16BE(cmd.version, pos + 3);
  buf.writeInt32BE(cmd.opaque, pos + 5);
  buf.writeInt32BE(cmd.flag, pos + 9);
  let p = pos + 13;
  const remarkLen = cmd.remark ? writeUtf8(buf, cmd.remark, p + 4) : 0;
  buf.writeInt32BE(remarkLen, p);
  p += 4 + remarkLen;
  const extAt = p;
  p += 4;
  const ext = cmd.extFields;
  if (ext) {
    for (const k in ext) {
      const v = ext[k];
      if (v === undefined || v === null) continue;
      const kl = writeUtf8(buf, k, p + 2);
      buf.writeInt16BE(kl, p);
      p += 2 + kl;
      const vl = writeUtf8(buf, typeof v === 'string' ? v : String(v), p + 4);
      buf.writeInt32BE(vl, p);
      p += 4 + vl;
    }
  }
  buf.writeInt32BE(p - extAt - 4, extAt);
  return p - pos;
}

/** The header in a buffer of its own. */
export function encodeRocketMqHeader(cmd: RemotingCommand): Buffer {
  const buf = Buffer.allocUnsafe(rocketMqHeaderMaxBytes(cmd));
  return buf.subarray(0, writeRocketMqHeader(cmd, buf, 0));
}

/** Buffer's own decoders, without toString's argument handling (a third of a header's decode). */
type SliceableBuffer = Buffer & {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
};

/**
 * Header keys decoded once: a direct-mapped table by a hash of the key's bytes (a miss overwrites
 * its slot; nothing grows or rehashes). Each slot also remembers the last value seen under its
 * key, reused when the bytes are the same: topic, group, queue id and flags repeat from one request
 * to the next, offsets and ids do not and cost one failed comparison. Interning every short value
 * in one table instead thrashed it with those unique values, a cache miss per lookup.
 */
const KEY_SLOTS = 512;
const keys: (string | undefined)[] = new Array<string | undefined>(KEY_SLOTS).fill(undefined);
const lastValues: (string | undefined)[] = new Array<string | undefined>(KEY_SLOTS).fill(undefined);

/** `s` equals the ASCII bytes buf[p, p + s.length). */
function sameBytes(s: string, buf: Buffer, p: number): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) !== buf[p + i]) return false;
  return true;
}

/** The slot of the key at buf[p, end) with keys[slot] set to it; -1 for a non-ASCII key. */
function keySlot(buf: SliceableBuffer, p: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = p; i < end; i++) {
    const c = buf[i]!;
    if (c >= 0x80) return -1;
    h = Math.imul(h ^ c, 16777619);
  }
  const slot = (h ^ (end - p)) & (KEY_SLOTS - 1);
  const k = keys[slot];
  if (k === undefined || k.length !== end - p || !sameBytes(k, buf, p)) {
    keys[slot] = buf.latin1Slice(p, end);
    lastValues[slot] = undefined;
  }
  return slot;
}

/** The value at buf[p, end) of the key in `slot`: its last value when the bytes are the same. */
function valueFor(slot: number, buf: SliceableBuffer, p: number, end: number): string {
  const n = end - p;
  if (n === 0) return '';
  const last = lastValues[slot];
  if (last !== undefined && last.length === n && n <= 64 && sameBytes(last, buf, p)) return last;
  const fresh = buf.utf8Slice(p, end);
  // Kept only when every byte became one character (ASCII): the byte-wise comparison above would
  // take the decoding of other bytes for a match otherwise.
  lastValues[slot] = fresh.length === n ? fresh : undefined;
  return fresh;
}

function bad(reason: string): never {
  throw new RmqError(ErrorCode.FRAME_INVALID, `malformed ROCKETMQ header: ${reason}`);
}

export function decodeRocketMqHeader(buf: Buffer): Omit<RemotingCommand, 'body'> {
  if (buf.length < FIXED) bad(`${buf.length} bytes, need at least ${FIXED}`);
  const code = buf.readInt16BE(0);
  const language = languageFromByte(buf.readUInt8(2));
  const version = buf.readInt16BE(3);
  const opaque = buf.readInt32BE(5);
  const flag = buf.readInt32BE(9);
  const remarkLen = buf.readInt32BE(13);
  let p = 17;
  if (remarkLen < 0 || p + remarkLen + 4 > buf.length) bad('remark length past the header');
  const remark = remarkLen > 0 ? (buf as SliceableBuffer).utf8Slice(p, p + remarkLen) : undefined;
  p += remarkLen;
  const extLen = buf.readInt32BE(p);
  p += 4;
  if (extLen < 0 || p + extLen > buf.length) bad('extFields length past the header');
  const end = p + extLen;
  let extFields: ExtFields | undefined;
  if (extLen > 0) {
    extFields = {};
    while (p < end) {
      if (p + 2 > end) bad('truncated key length');
      const kl = buf.readInt16BE(p);
      p += 2;
      if (kl < 0 || p + kl + 4 > end) bad('key length past the map');
      const slot = kl > 0 ? keySlot(buf as SliceableBuffer, p, p + kl) : -1;
      const key = slot >= 0 ? keys[slot]! : (buf as SliceableBuffer).utf8Slice(p, p + kl);
      p += kl;
      const vl = buf.readInt32BE(p);
      p += 4;
      if (vl < 0 || p + vl > end) bad('value length past the map');
      extFields[key] =
        slot >= 0
          ? valueFor(slot, buf as SliceableBuffer, p, p + vl)
          : (buf as SliceableBuffer).utf8Slice(p, p + vl);
      p += vl;
    }
  }
  return { code, language, version, opaque, flag, remark, extFields, serializeType: SerializeType.ROCKETMQ };
}
