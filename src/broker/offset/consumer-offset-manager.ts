/**
 * Committed consumer offsets per `topic@group` and queue id: the NEXT offset to consume.
 * Persisted to config/consumerOffset.json every flushConsumerOffsetInterval (5 s) and at
 * shutdown, in upstream's format, integer queue keys unquoted as fastjson writes them:
 *   {"offsetTable":{"TopicTest@group":{0:250,1:250}}}
 * Any long is stored, -1 included (ali-ons commits -1 for "none"); readers treat negatives as
 * "no offset".
 */
import type { Logger } from '../../common/logger.js';
import { decodeConsumerOffsetTable, encodeConsumerOffsetTable } from '../../protocol/admin-bodies.js';
import { ConfigFileManager } from '../config-file-manager.js';

const TOPIC_GROUP_SEPARATOR = '@';

export class ConsumerOffsetManager extends ConfigFileManager {
  private table = new Map<string, Map<number, number>>();
  private dirty = false;

  constructor(path: string, log: Logger) {
    super(path, log);
  }

  protected encode(): string {
    return encodeConsumerOffsetTable(this.table, true);
  }

  protected decode(text: string): void {
    this.table = decodeConsumerOffsetTable(text);
  }

  commit(group: string, topic: string, queueId: number, offset: number): void {
    const key = topic + TOPIC_GROUP_SEPARATOR + group;
    let queues = this.table.get(key);
    if (!queues) {
      queues = new Map();
      this.table.set(key, queues);
    }
    queues.set(queueId, offset);
    this.dirty = true;
  }

  /** The committed offset, or -1 when there is none. */
  query(group: string, topic: string, queueId: number): number {
    return this.table.get(topic + TOPIC_GROUP_SEPARATOR + group)?.get(queueId) ?? -1;
  }

  /** Offsets of one group on one topic. */
  queryAll(group: string, topic: string): Map<number, number> | undefined {
    return this.table.get(topic + TOPIC_GROUP_SEPARATOR + group);
  }

  /** Groups that have committed offsets on `topic`. */
  groupsOfTopic(topic: string): Set<string> {
    const out = new Set<string>();
    for (const key of this.table.keys()) {
      const at = key.indexOf(TOPIC_GROUP_SEPARATOR);
      if (key.slice(0, at) === topic) out.add(key.slice(at + 1));
    }
    return out;
  }

  /** Topics on which `group` has committed offsets. */
  topicsOfGroup(group: string): Set<string> {
    const out = new Set<string>();
    for (const key of this.table.keys()) {
      const at = key.indexOf(TOPIC_GROUP_SEPARATOR);
      if (key.slice(at + 1) === group) out.add(key.slice(0, at));
    }
    return out;
  }

  removeGroup(group: string): void {
    for (const key of [...this.table.keys()]) {
      if (key.slice(key.indexOf(TOPIC_GROUP_SEPARATOR) + 1) === group) this.table.delete(key);
    }
    this.dirty = true;
  }

  removeTopic(topic: string): void {
    for (const key of [...this.table.keys()]) {
      if (key.slice(0, key.indexOf(TOPIC_GROUP_SEPARATOR)) === topic) this.table.delete(key);
    }
    this.dirty = true;
  }

  /** The whole table as the GET_ALL_CONSUMER_OFFSET body (for slaves). */
  encodeTable(): string {
    return encodeConsumerOffsetTable(this.table);
  }

  /** Persists if anything changed since the last write (the periodic flush). */
  flushIfDirty(): Promise<void> {
    if (!this.dirty) return Promise.resolve();
    this.dirty = false;
    return this.persist();
  }
}
