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

export function encodeRocketMqHeader(cmd: RemotingCommand): Buffer {
  const remark = cmd.remark ? Buffer.from(cmd.remark, 'utf8') : undefined;
  const entries: [Buffer, Buffer][] = [];
  let extLen = 0;
  if (cmd.extFields) {
    for (const k in cmd.extFields) {
      const v = cmd.extFields[k];
      if (v === undefined || v === null) continue;
      const kb = Buffer.from(k, 'utf8');
      const vb = Buffer.from(String(v), 'utf8');
      entries.push([kb, vb]);
      extLen += 2 + kb.length + 4 + vb.length;
    }
  }
  const buf = Buffer.allocUnsafe(FIXED + (remark?.length ?? 0) + extLen);
  let p = buf.writeInt16BE(cmd.code, 0);
  p = buf.writeUInt8(languageToByte(cmd.language), p);
  p = buf.writeInt16BE(cmd.version, p);
  p = buf.writeInt32BE(cmd.opaque, p);
  p = buf.writeInt32BE(cmd.flag, p);
  p = buf.writeInt32BE(remark?.length ?? 0, p);
  if (remark) p += remark.copy(buf, p);
  p = buf.writeInt32BE(extLen, p);
  for (const [kb, vb] of entries) {
    p = buf.writeInt16BE(kb.length, p);
    p += kb.copy(buf, p);
    p = buf.writeInt32BE(vb.length, p);
    p += vb.copy(buf, p);
  }
  return buf;
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
  const remark = remarkLen > 0 ? buf.toString('utf8', p, p + remarkLen) : undefined;
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
      const key = buf.toString('utf8', p, p + kl);
      p += kl;
      const vl = buf.readInt32BE(p);
      p += 4;
      if (vl < 0 || p + vl > end) bad('value length past the map');
      extFields[key] = buf.toString('utf8', p, p + vl);
      p += vl;
    }
  }
  return { code, language, version, opaque, flag, remark, extFields, serializeType: SerializeType.ROCKETMQ };
}
