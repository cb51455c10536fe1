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

/** Characters JSON.stringify would escape: quote, backslash, controls, lone surrogate halves. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what must be escaped
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** JSON.stringify(s) for a string, without its cost when nothing needs escaping (the usual case). */
function jsonString(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

export function encodeJsonHeader(cmd: RemotingCommand): string {
  let s = `{"code":${cmd.code}`;
  if (cmd.extFields) {
    s += `,"extFields":{`;
    let first = true;
    for (const k in cmd.extFields) {
      const v = cmd.extFields[k];
      if (v === undefined || v === null) continue;
      s += `${first ? '' : ','}${jsonString(k)}:${jsonString(typeof v === 'string' ? v : String(v))}`;
      first = false;
    }
    s += '}';
  }
  s += `,"flag":${cmd.flag},"language":${jsonString(cmd.language)},"opaque":${cmd.opaque}`;
  if (cmd.remark !== undefined && cmd.remark !== null) s += `,"remark":${jsonString(cmd.remark)}`;
  s += `,"serializeTypeCurrentRPC":"JSON","version":${cmd.version}}`;
  return s;
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
