/**
 * JSON header (serialize type 0): the command's fields as one JSON object, UTF-8.
 *   {"code":11,"extFields":{"topic":"T",...},"flag":0,"language":"JAVA","opaque":7,"remark":null,
 *    "serializeTypeCurrentRPC":"JSON","version":409}
 * Written with keys in alphabetical order as Java's fastjson does; every extFields value a string.
 * Read leniently as Java does: missing numbers are 0, ext values may be JSON numbers or booleans
 * (ali-ons sends `"queueId":0`). Anything that is not a JSON object with well-typed fields throws.
 */
import { RmqError, ErrorCode } from '../common/errors.js';
import { SerializeType, type ExtFields, type RemotingCommand } from './remoting-command.js';

/** Upper bound of writeJsonHeader's output: JSON escapes take up to 6 bytes per UTF-16 unit. */
export function jsonHeaderMaxBytes(cmd: RemotingCommand): number {
  let n = 160 + (cmd.language?.length ?? 0) * 6 + (cmd.remark ? cmd.remark.length * 6 : 0);
  const ext = cmd.extFields;
  if (ext) {
    for (const k in ext) {
      const v = ext[k];
      if (v === undefined || v === null) continue;
      n += 6 + (k.length + (typeof v === 'string' ? v.length : String(v).length)) * 6;
    }
  }
  return n;
}

/**
 * Writes `"s"` at `pos` and returns the byte count: printable ASCII byte by byte (keys and nearly
 * every value), anything else through JSON.stringify's escaping and the UTF-8 encoder.
 */
function writeJsonString(buf: Buffer, s: string, pos: number): number {
  const n = s.length;
  buf[pos] = 34;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 34 || c === 92) return buf.write(JSON.stringify(s), pos, 'utf8');
    buf[pos + 1 + i] = c;
  }
  buf[pos + 1 + n] = 34;
  return n + 2;
}

/** Writes ASCII text (field names and punctuation of the fixed layout). */
function writeAscii(buf: Buffer, s: string, pos: number): number {
  for (let i = 0; i < s.length; i++) buf[pos + i] = s.charCodeAt(i);
  return s.length;
}

/**
 * Writes the header into `buf` at `pos` (room for jsonHeaderMaxBytes(cmd)) and returns its length:
 * the bytes JSON.stringify would give for the fields in this order, without an intermediate string
 * to build, flatten and encode again.
 */
export function writeJsonHeader(cmd: RemotingCommand, buf: Buffer, pos: number): number {
  let p = pos;
  p += writeAscii(buf, `{"code":${cmd.code}`, p);
  if (cmd.extFields) {
    p += writeAscii(buf, ',"extFields":{', p);
    let first = true;
    for (const k in cmd.extFields) {
      const v = cmd.extFields[k];
      if (v === undefined || v === null) continue;
      if (!first) buf[p++] = 44;
      first = false;
      p += writeJsonString(buf, k, p);
      buf[p++] = 58;
      p += writeJsonString(buf, typeof v === 'string' ? v : String(v), p);
    }
    buf[p++] = 125;
  }
  p += writeAscii(buf, `,"flag":${cmd.flag},"language":`, p);
  p += writeJsonString(buf, cmd.language, p);
  p += writeAscii(buf, `,"opaque":${cmd.opaque}`, p);
  if (cmd.remark !== undefined && cmd.remark !== null) {
    p += writeAscii(buf, ',"remark":', p);
    p += writeJsonString(buf, cmd.remark, p);
  }
  p += writeAscii(buf, `,"serializeTypeCurrentRPC":"JSON","version":${cmd.version}}`, p);
  return p - pos;
}

function bad(reason: string): never {
  throw new RmqError(ErrorCode.FRAME_INVALID, `malformed JSON header: ${reason}`);
}

function intField(obj: Record<string, unknown>, name: string): number {
  const v = obj[name];
  if (v === undefined || v === null) return 0;
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) return bad(`field ${name} is not an integer`);
  return n;
}

export function decodeJsonHeader(text: string): Omit<RemotingCommand, 'body'> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return bad('not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return bad('not a JSON object');
  const obj = parsed as Record<string, unknown>;
  let extFields: ExtFields | undefined;
  const ext = obj.extFields;
  if (ext !== undefined && ext !== null) {
    if (typeof ext !== 'object' || Array.isArray(ext)) return bad('extFields is not an object');
    // JSON.parse made this object for us alone: keep it when every value is already a string
    // (what Java and our encoder send) instead of copying it.
    const raw = ext as Record<string, unknown>;
    let allStrings = true;
    for (const k in raw) {
      if (typeof raw[k] !== 'string') {
        allStrings = false;
        break;
      }
    }
    if (allStrings) {
      extFields = raw as ExtFields;
    } else {
      extFields = {};
      for (const [k, v] of Object.entries(raw)) {
        if (v === null || v === undefined) continue;
        extFields[k] = typeof v === 'object' ? JSON.stringify(v) : String(v);
      }
    }
  }
  const remark = obj.remark;
  if (remark !== undefined && remark !== null && typeof remark !== 'string')
    return bad('remark is not a string');
  const language = obj.language;
  if (language !== undefined && language !== null && typeof language !== 'string') {
    return bad('language is not a string');
  }
  return {
    code: intField(obj, 'code'),
    language: (language as string | undefined | null) ?? 'JAVA',
    version: intField(obj, 'version'),
    opaque: intField(obj, 'opaque'),
    flag: intField(obj, 'flag'),
    remark: (remark as string | undefined | null) ?? undefined,
    extFields,
    serializeType: SerializeType.JSON,
  };
}
