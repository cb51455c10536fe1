/**
 * Java `.properties` text, read the way java.util.Properties.load reads it: `#`/`!` comments,
 * `key=value`, `key:value` or `key value`, whitespace around the key and before the value dropped,
 * backslash line continuation, `\uXXXX` and `\t \n \r \f` escapes. A key given twice keeps the last
 * value (the seeds' DLedger config sets storePathRootDir twice and relies on that).
 */
import { readFileSync } from 'node:fs';
import { RmqError, ErrorCode, errorMessage } from '../errors.js';

export interface PropertyEntry {
  key: string;
  value: string;
  line: number;
}

const WS = new Set([' ', '\t', '\f']);

function unescape(s: string): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\' || i + 1 >= s.length) {
      out += c;
      continue;
    }
    const n = s[++i]!;
    switch (n) {
      case 't':
        out += '\t';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 'f':
        out += '\f';
        break;
      case 'u': {
        const hex = s.slice(i + 1, i + 5);
        if (/^[0-9a-fA-F]{4}$/.test(hex)) {
          out += String.fromCharCode(parseInt(hex, 16));
          i += 4;
        } else {
          out += 'u';
        }
        break;
      }
      default:
        out += n;
    }
  }
  return out;
}

/** Number of backslashes immediately before position `end` (exclusive). */
function trailingBackslashes(s: string, end: number): number {
  let n = 0;
  while (end - 1 - n >= 0 && s[end - 1 - n] === '\\') n++;
  return n;
}

export function parseProperties(text: string): PropertyEntry[] {
  const physical = text.split(/\r\n|\r|\n/);
  const entries: PropertyEntry[] = [];
  for (let i = 0; i < physical.length; i++) {
    const startLine = i + 1;
    let line = physical[i]!.replace(/^[ \t\f]+/, '');
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    // An odd number of trailing backslashes continues the logical line.
    while (trailingBackslashes(line, line.length) % 2 === 1 && i + 1 < physical.length) {
      line = line.slice(0, -1) + physical[++i]!.replace(/^[ \t\f]+/, '');
    }
    let k = 0;
    let key = '';
    while (k < line.length) {
      const c = line[k]!;
      if (c === '\\' && k + 1 < line.length) {
        key += line.slice(k, k + 2);
        k += 2;
        continue;
      }
      if (c === '=' || c === ':' || WS.has(c)) break;
      key += c;
      k++;
    }
    while (k < line.length && WS.has(line[k]!)) k++;
    if (k < line.length && (line[k] === '=' || line[k] === ':')) k++;
    while (k < line.length && WS.has(line[k]!)) k++;
    entries.push({ key: unescape(key), value: unescape(line.slice(k)), line: startLine });
  }
  return entries;
}

/** Last value wins, as java.util.Properties does. */
export function propertiesToMap(entries: PropertyEntry[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const e of entries) map.set(e.key, e.value);
  return map;
}

export function readPropertiesFile(path: string): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new RmqError(ErrorCode.CONFIG_INVALID, `cannot read config file ${path}: ${errorMessage(err)}`, {
      cause: err,
    });
  }
  return propertiesToMap(parseProperties(text));
}

/** Renders key=value lines (for `-p` printing and UPDATE/GET_BROKER_CONFIG bodies). */
export function formatProperties(values: Iterable<[string, string]>): string {
  let out = '';
  for (const [k, v] of values) out += `${k}=${v}\n`;
  return out;
}
