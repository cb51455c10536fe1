/**
 * The message a producer sends: topic, body, flag and properties. Tags, keys, delay level and the
 * wait-for-store switch are properties under upstream's names (TAGS, KEYS, DELAY, WAIT), exactly as
 * they travel; user properties sit beside them. Like upstream's constructor, a new message carries
 * WAIT=true.
 */
import { RmqError, ErrorCode } from '../../common/errors.js';
import { KEY_SEPARATOR, MessageProperty } from '../../common/message/message-const.js';

export type MessageBody = Buffer | Uint8Array | string;

export interface MessageInit {
  tags?: string;
  /** Business keys (indexed by the broker); a string is split on spaces. */
  keys?: string | readonly string[];
  flag?: number;
  /** 1..18 with the default levels (1s 5s 10s 30s 1m ...); 0 = no delay. */
  delayTimeLevel?: number;
  /** Wait for flush/replication before the broker answers (default true). */
  waitStoreMsgOK?: boolean;
  /** User properties. */
  properties?: Readonly<Record<string, string>>;
}

const RESERVED = new Set<string>(Object.values(MessageProperty));

/**
 * Internal (not exported from the package): a received message (MessageExt) keeps the properties
 * map it was decoded with. adoptProperties(map) then `super(topic, body, ADOPT)`: one shared init
 * object, not one per message received.
 */
export const ADOPT: MessageInit = Object.freeze({});
let adopting: Map<string, string> | undefined;
export function adoptProperties(map: Map<string, string>): MessageInit {
  adopting = map;
  return ADOPT;
}

export function toBuffer(body: MessageBody): Buffer {
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (Buffer.isBuffer(body)) return body;
  return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

export class Message {
  topic: string;
  flag: number;
  body: Buffer;
  /** Every property as sent: system ones (TAGS, KEYS, UNIQ_KEY, ...) and user ones. */
  properties: Map<string, string>;
  transactionId: string | undefined;

  constructor(topic: string, body: MessageBody, init: MessageInit = {}) {
    this.topic = topic;
    this.body = toBuffer(body);
    this.flag = init.flag ?? 0;
    if (init === ADOPT && adopting) {
      // A received message (MessageExt) keeps the properties it was stored with, as they are.
      this.properties = adopting;
      adopting = undefined;
      return;
    }
    this.properties = new Map();
    if (init.tags !== undefined && init.tags !== '') this.tags = init.tags;
    if (init.keys !== undefined) this.keys = init.keys;
    if (init.delayTimeLevel) this.delayTimeLevel = init.delayTimeLevel;
    this.waitStoreMsgOK = init.waitStoreMsgOK ?? true;
    if (init.properties) for (const [k, v] of Object.entries(init.properties)) this.putUserProperty(k, v);
  }

  get tags(): string | undefined {
    return this.properties.get(MessageProperty.TAGS);
  }

  set tags(tags: string | undefined) {
    if (tags === undefined) this.properties.delete(MessageProperty.TAGS);
    else this.properties.set(MessageProperty.TAGS, tags);
  }

  /** The KEYS property split into keys. */
  get keys(): string[] {
    const k = this.properties.get(MessageProperty.KEYS);
    return k ? k.split(KEY_SEPARATOR).filter((s) => s !== '') : [];
  }

  set keys(keys: string | readonly string[]) {
    const v = typeof keys === 'string' ? keys : keys.join(KEY_SEPARATOR);
    if (v.trim() === '') this.properties.delete(MessageProperty.KEYS);
    else this.properties.set(MessageProperty.KEYS, v);
  }

  get delayTimeLevel(): number {
    return Number(this.properties.get(MessageProperty.DELAY_TIME_LEVEL) ?? 0) || 0;
  }

  set delayTimeLevel(level: number) {
    if (!Number.isInteger(level) || level < 0) {
      throw new RmqError(
        ErrorCode.ILLEGAL_ARGUMENT,
        `delayTimeLevel must be a non-negative integer, got ${level}`,
      );
    }
    if (level === 0) this.properties.delete(MessageProperty.DELAY_TIME_LEVEL);
    else this.properties.set(MessageProperty.DELAY_TIME_LEVEL, String(level));
  }

  get waitStoreMsgOK(): boolean {
    return this.properties.get(MessageProperty.WAIT_STORE_MSG_OK) !== 'false';
  }

  set waitStoreMsgOK(wait: boolean) {
    this.properties.set(MessageProperty.WAIT_STORE_MSG_OK, wait ? 'true' : 'false');
  }

  /** Adds a user property; system property names are refused, as upstream. */
  putUserProperty(name: string, value: string): void {
    if (RESERVED.has(name)) {
      throw new RmqError(ErrorCode.ILLEGAL_ARGUMENT, `the property name '${name}' is reserved by the system`);
    }
    if (name.trim() === '' || value.trim() === '') {
      throw new RmqError(ErrorCode.ILLEGAL_ARGUMENT, 'a user property needs a non-blank name and value');
    }
    this.properties.set(name, value);
  }

  getUserProperty(name: string): string | undefined {
    return this.properties.get(name);
  }

  getProperty(name: string): string | undefined {
    return this.properties.get(name);
  }

  /** Upstream's Message.toString, used in the quickstart output. */
  toString(): string {
    return (
      `Message{topic='${this.topic}', flag=${this.flag}, properties=${propertiesToString(this.properties)}, ` +
      `body=${bodyToString(this.body)}, transactionId='${this.transactionId ?? 'null'}'}`
    );
  }
}

/** `{K=V, K2=V2}` like java.util.Map.toString. */
export function propertiesToString(props: ReadonlyMap<string, string>): string {
  const parts: string[] = [];
  for (const [k, v] of props) parts.push(`${k}=${v}`);
  return `{${parts.join(', ')}}`;
}

/** `[72, 101, ...]` like Arrays.toString(byte[]): signed bytes. */
export function bodyToString(body: Buffer): string {
  const parts = new Array<string>(body.length);
  for (let i = 0; i < body.length; i++) parts[i] = String((body[i]! << 24) >> 24);
  return `[${parts.join(', ')}]`;
}
