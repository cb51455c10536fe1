/**
 * The per-message values the dispatcher stores, computed from the encoded properties string
 * without cutting substrings out of it (a put used to allocate its TAGS, KEYS and UNIQ_KEY strings
 * only to hash them later):
 *   - tagsCode: Java String.hashCode of TAGS (consume-queue unit), or for SCHEDULE_TOPIC_XXXX the
 *     delivery time (store time + the DELAY level's delay), as upstream does;
 *   - index key hashes: |hashCode(topic + "#" + key)| for UNIQ_KEY and for each word of KEYS, in
 *     that order (IndexService), the topic prefix folded in from a cached hashCode(topic + "#").
 */
import { javaStringHashCode } from '../../common/java-hash.js';
import { getProperty } from '../../common/message/message-properties.js';
import { MessageProperty, SystemTopic } from '../../common/message/message-const.js';
import { indexKeyHashWithPrefix } from '../index/index-file.js';

const TAGS_NEEDLE = MessageProperty.TAGS + '\u0001';
const KEYS_NEEDLE = MessageProperty.KEYS + '\u0001';
const UNIQ_NEEDLE = MessageProperty.UNIQ_CLIENT_MESSAGE_ID_KEYIDX + '\u0001';
const SEPARATOR = 2;
const KEY_SEPARATOR = 32;

/** End (exclusive) of the value found by the last valueStart call. */
let valueEnd = 0;

/** Start of the value of property `needle` (name + 0x01) in `s`, -1 when absent; sets valueEnd. */
function valueStart(s: string, needle: string): number {
  let from = 0;
  for (;;) {
    const at = s.indexOf(needle, from);
    if (at < 0) return -1;
    if (at === 0 || s.charCodeAt(at - 1) === SEPARATOR) {
      const start = at + needle.length;
      const end = s.indexOf('\u0002', start);
      valueEnd = end < 0 ? s.length : end;
      return start;
    }
    from = at + 1;
  }
}

/** |hashCode(prefix + s[from, to))| given hashCode(prefix) (see IndexFile). */
function rangeKeyHash(prefixHash: number, s: string, from: number, to: number): number {
  let h = prefixHash;
  for (let i = from; i < to; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h === -2147483648 ? 0 : Math.abs(h);
}

export class DispatchKeys {
  private readonly prefixHashes = new Map<string, number>();

  /** `delayLevels[level]` = delay in ms (index 0 unused). */
  constructor(private readonly delayLevels: number[]) {}

  tagsCode(topic: string, props: string, storeTimestamp: number): number {
    if (topic === SystemTopic.SCHEDULE_TOPIC) {
      const level = Number(getProperty(props, MessageProperty.DELAY_TIME_LEVEL));
      if (Number.isInteger(level) && level > 0) {
        const max = this.delayLevels.length - 1;
        return storeTimestamp + (this.delayLevels[Math.min(level, max)] ?? 0);
      }
    }
    if (props.length === 0) return 0;
    const start = valueStart(props, TAGS_NEEDLE);
    if (start < 0) return 0;
    let h = 0;
    for (let i = start; i < valueEnd; i++) h = (Math.imul(h, 31) + props.charCodeAt(i)) | 0;
    return h;
  }

  /** hashCode(topic + "#"), cached per topic. */
  prefixHash(topic: string): number {
    let h = this.prefixHashes.get(topic);
    if (h === undefined) {
      h = javaStringHashCode(topic + '#');
      if (this.prefixHashes.size > 10000) this.prefixHashes.clear();
      this.prefixHashes.set(topic, h);
    }
    return h;
  }

  /** Calls `sink` with the index key hash of UNIQ_KEY, then of each KEYS word. */
  keyHashes(topic: string, props: string, sink: (hash: number) => void): void {
    if (props.length === 0) return;
    let prefix: number | undefined;
    const uStart = valueStart(props, UNIQ_NEEDLE);
    if (uStart >= 0 && valueEnd > uStart) {
      prefix = this.prefixHash(topic);
      sink(rangeKeyHash(prefix, props, uStart, valueEnd));
    }
    let k = valueStart(props, KEYS_NEEDLE);
    if (k < 0) return;
    const end = valueEnd;
    prefix ??= this.prefixHash(topic);
    while (k < end) {
      let w = k;
      while (w < end && props.charCodeAt(w) !== KEY_SEPARATOR) w++;
      if (w > k) sink(rangeKeyHash(prefix, props, k, w));
      k = w + 1;
    }
  }

  /** The same hashes for a key given as a string (queries, tests). */
  keyHash(topic: string, key: string): number {
    return indexKeyHashWithPrefix(this.prefixHash(topic), key);
  }
}
