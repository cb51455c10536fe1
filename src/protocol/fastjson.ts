/**
 * JSON as RocketMQ's Java side writes and reads it with fastjson, which is not always JSON:
 * - maps with integer keys are written unquoted (`"brokerAddrs":{0:"10.0.0.1:10911"}`), as in
 *   TopicRouteData for old clients, ClusterInfo, and consumerOffset.json;
 * - maps keyed by objects are written with the object as the key
 *   (`{{"brokerName":"b","queueId":0,"topic":"T"}:{...}}`), as in admin stats bodies.
 * The writer marks such maps by using a JS Map: number keys are written unquoted unless
 * `standard` is set, object keys as objects. The reader accepts both forms; an object whose keys
 * are not all strings comes back as a Map with the keys as parsed.
 * Plain object fields are written in alphabetical order, as fastjson's default does; undefined and
 * null fields are skipped.
 */
import { RmqError, ErrorCode } from '../common/errors.js';

export interface WriteOptions {
  /** Quote integer map keys (fastjson BrowserCompatible; what clients of version >= 4.9.4 get). */
  standard?: boolean;
  /** Tab-indented, one field per line, like fastjson's pretty format (broker config files). */
  pretty?: boolean;
}

export function writeJson(value: unknown, options: WriteOptions = {}): string {
  return write(value, options, 0);
}

function indent(options: WriteOptions, depth: number): string {
  return options.pretty ? '\n' + '\t'.repeat(depth) : '';
}

function write(value: unknown, options: WriteOptions, depth: number): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'object':
      break;
    default:
      return 'null';
  }
  if (Buffer.isBuffer(value)) return JSON.stringify(value.toString('base64'));
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const items = value.map((v) => indent(options, depth + 1) + write(v, options, depth + 1));
    return `[${items.join(',')}${indent(options, depth)}]`;
  }
  if (value instanceof Set) return write([...value], options, depth);
  const parts: string[] = [];
  if (value instanceof Map) {
    for (const [k, v] of value) {
      if (v === undefined) continue;
      let key: string;
      if (typeof k === 'number') key = options.standard ? `"${k}"` : String(k);
      else if (typeof k === 'string') key = JSON.stringify(k);
      else key = write(k, { standard: options.standard }, 0);
      parts.push(`${indent(options, depth + 1)}${key}:${write(v, options, depth + 1)}`);
    }
  } else {
    const obj = value as Record<string, unknown>;
    for (const k of Object.keys(obj).sort()) {
      const v = obj[k];
      if (v === undefined || v === null || typeof v === 'function') continue;
      parts.push(`${indent(options, depth + 1)}${JSON.stringify(k)}:${write(v, options, depth + 1)}`);
    }
  }
  if (parts.length === 0) return '{}';
  return `{${parts.join(',')}${indent(options, depth)}}`;
}

/** Parses JSON and fastjson's extensions (unquoted integer keys, object keys, single quotes). */
export function parseJson(text: string): unknown {
  const p = new Parser(text);
  p.ws();
  const v = p.value();
  p.ws();
  if (p.pos < text.length) p.fail('trailing characters');
  return v;
}

class Parser {
  pos = 0;
  constructor(private readonly s: string) {}

  fail(what: string): never {
    throw new RmqError(ErrorCode.ILLEGAL_ARGUMENT, `bad JSON at ${this.pos}: ${what}`);
  }

  ws(): void {
    while (this.pos < this.s.length) {
      const c = this.s.charCodeAt(this.pos);
      if (c === 32 || c === 9 || c === 10 || c === 13) this.pos++;
      else break;
    }
  }

  value(): unknown {
    const c = this.s[this.pos];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"' || c === "'") return this.string();
    if (c === 't' && this.s.startsWith('true', this.pos)) return ((this.pos += 4), true);
    if (c === 'f' && this.s.startsWith('false', this.pos)) return ((this.pos += 5), false);
    if (c === 'n' && this.s.startsWith('null', this.pos)) return ((this.pos += 4), null);
    return this.number();
  }

  number(): number {
    const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(this.s.slice(this.pos, this.pos + 64));
    if (!m) this.fail('expected a value');
    this.pos += m[0].length;
    return Number(m[0]);
  }

  string(): string {
    const quote = this.s[this.pos];
    if (quote === '"') {
      // Fast path: find the end honouring escapes, then let JSON.parse unescape.
      let i = this.pos + 1;
      while (i < this.s.length) {
        const ch = this.s[i];
        if (ch === '\\') i += 2;
        else if (ch === '"') break;
        else i++;
      }
      if (i >= this.s.length) this.fail('unterminated string');
      const raw = this.s.slice(this.pos, i + 1);
      this.pos = i + 1;
      try {
        return JSON.parse(raw) as string;
      } catch {
        return this.fail('bad string escape');
      }
    }
    let out = '';
    this.pos++;
    while (this.pos < this.s.length && this.s[this.pos] !== "'") {
      if (this.s[this.pos] === '\\') this.pos++;
      out += this.s[this.pos++];
    }
    if (this.pos >= this.s.length) this.fail('unterminated string');
    this.pos++;
    return out;
  }

  array(): unknown[] {
    this.pos++;
    const out: unknown[] = [];
    this.ws();
    if (this.s[this.pos] === ']') return (this.pos++, out);
    for (;;) {
      this.ws();
      out.push(this.value());
      this.ws();
      const c = this.s[this.pos++];
      if (c === ']') return out;
      if (c !== ',') this.fail("expected ',' or ']'");
    }
  }

  key(): unknown {
    const c = this.s[this.pos];
    if (c === '"' || c === "'") return this.string();
    if (c === '{') return this.object();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    const m = /^[A-Za-z_$][\w$]*/.exec(this.s.slice(this.pos, this.pos + 256));
    if (!m) this.fail('expected a key');
    this.pos += m[0].length;
    return m[0];
  }

  object(): Record<string, unknown> | Map<unknown, unknown> {
    this.pos++;
    const entries: [unknown, unknown][] = [];
    let allStrings = true;
    this.ws();
    if (this.s[this.pos] === '}') {
      this.pos++;
      return {};
    }
    for (;;) {
      this.ws();
      const k = this.key();
      if (typeof k !== 'string') allStrings = false;
      this.ws();
      if (this.s[this.pos++] !== ':') this.fail("expected ':'");
      this.ws();
      entries.push([k, this.value()]);
      this.ws();
      const c = this.s[this.pos++];
      if (c === '}') break;
      if (c !== ',') this.fail("expected ',' or '}'");
    }
    if (!allStrings) return new Map(entries);
    const obj: Record<string, unknown> = {};
    for (const [k, v] of entries) {
      if (k === '__proto__') continue;
      obj[k as string] = v;
    }
    return obj;
  }
}

/** Entries of a parsed map whichever form it took (plain object or Map); keys as strings. */
export function mapEntries(value: unknown): [string, unknown][] {
  if (value instanceof Map) return [...value].map(([k, v]) => [typeof k === 'string' ? k : String(k), v]);
  if (value && typeof value === 'object' && !Array.isArray(value)) return Object.entries(value);
  return [];
}

/** Entries of a parsed map keyed by objects (e.g. MessageQueue) whichever form it took. */
export function objectKeyedEntries(value: unknown): [unknown, unknown][] {
  if (value instanceof Map) return [...value];
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value).map(([k, v]) => {
      try {
        return [parseJson(k), v];
      } catch {
        return [k, v];
      }
    });
  }
  return [];
}
