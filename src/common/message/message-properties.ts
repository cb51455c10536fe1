/**
 * The properties string of a message: `name 0x01 value 0x02 name 0x01 value ...`.
 * Java writes no trailing 0x02, ali-ons writes one after every pair; both decode the same here.
 * Segments without a separator or with an empty name are skipped (Java skips them too).
 */
import { NAME_VALUE_SEPARATOR, PROPERTY_SEPARATOR } from './message-const.js';

export type MessageProperties = Map<string, string>;

/** Upstream's limit on the encoded properties (the stored length field is a signed int16). */
export const MAX_PROPERTIES_BYTES = 32767;

export function encodeProperties(props: ReadonlyMap<string, string> | undefined): string {
  if (!props || props.size === 0) return '';
  let out = '';
  let first = true;
  for (const [k, v] of props) {
    if (!first) out += PROPERTY_SEPARATOR;
    out += k + NAME_VALUE_SEPARATOR + v;
    first = false;
  }
  return out;
}

export function decodeProperties(s: string | undefined | null): MessageProperties {
  const map: MessageProperties = new Map();
  if (!s) return map;
  let start = 0;
  while (start < s.length) {
    let end = s.indexOf(PROPERTY_SEPARATOR, start);
    if (end < 0) end = s.length;
    const sep = s.indexOf(NAME_VALUE_SEPARATOR, start);
    if (sep > start && sep < end) map.set(s.slice(start, sep), s.slice(sep + 1, end));
    start = end + 1;
  }
  return map;
}

/**
 * Reads one property without building a map (hot paths: TAGS, KEYS, UNIQ_KEY of every stored
 * message). Returns undefined when absent.
 */
export function getProperty(s: string, name: string): string | undefined {
  if (!s) return undefined;
  const needle = name + NAME_VALUE_SEPARATOR;
  let from = 0;
  while (from < s.length) {
    const at = s.indexOf(needle, from);
    if (at < 0) return undefined;
    if (at === 0 || s.charCodeAt(at - 1) === 2) {
      const valueStart = at + needle.length;
      let end = s.indexOf(PROPERTY_SEPARATOR, valueStart);
      if (end < 0) end = s.length;
      return s.slice(valueStart, end);
    }
    from = at + 1;
  }
  return undefined;
}

/** Appends `name=value` to an encoded properties string, coping with an existing trailing 0x02. */
export function appendProperty(s: string, name: string, value: string): string {
  if (s === '') return name + NAME_VALUE_SEPARATOR + value;
  const sep = s.endsWith(PROPERTY_SEPARATOR) ? '' : PROPERTY_SEPARATOR;
  return s + sep + name + NAME_VALUE_SEPARATOR + value;
}

/** Removes `name` from an encoded properties string (and one separator with it). */
export function removeProperty(s: string, name: string): string {
  const needle = name + NAME_VALUE_SEPARATOR;
  let from = 0;
  while (from < s.length) {
    const at = s.indexOf(needle, from);
    if (at < 0) return s;
    if (at === 0 || s.charCodeAt(at - 1) === 2) {
      const end = s.indexOf(PROPERTY_SEPARATOR, at);
      if (end < 0) {
        // Last pair: drop it with the separator before it.
        return at === 0 ? '' : s.slice(0, at - 1);
      }
      return s.slice(0, at) + s.slice(end + 1);
    }
    from = at + 1;
  }
  return s;
}
