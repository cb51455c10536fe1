/**
 * Offsets of a BROADCASTING consumer, kept by the consumer itself in
 * `<offsetStoreDir>/<clientId>/<group>/offsets.json` (upstream's LocalFileOffsetStore, default dir
 * ~/.rocketmq_offsets), in upstream's format:
 *   {"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:12,...}}
 * Written atomically with a .bak copy of the previous generation; read back from either.
 */
import { join } from 'node:path';
import { loadWithBackupSync, writeFileAtomic } from '../../common/atomic-file.js';
import { errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { objectKeyedEntries, parseJson, writeJson } from '../../protocol/fastjson.js';
import { messageQueueFromJson } from '../../protocol/admin-bodies.js';
import { mqKey, type MessageQueue } from '../message/message-queue.js';
import { MemoryOffsetTable, OFFSET_NOT_FOUND, type OffsetStore } from './offset-store.js';

export function localOffsetFile(dir: string, clientId: string, group: string): string {
  return join(dir, clientId.replace(/[:/\\]/g, '_'), group, 'offsets.json');
}

function decodeOffsetFile(text: string): Map<string, { mq: MessageQueue; offset: number }> {
  const o = parseJson(text) as Record<string, unknown> | null;
  const out = new Map<string, { mq: MessageQueue; offset: number }>();
  for (const [k, v] of objectKeyedEntries(o?.offsetTable)) {
    const mq = messageQueueFromJson(k);
    out.set(mqKey(mq), { mq, offset: Number(v) });
  }
  return out;
}

export class LocalFileOffsetStore extends MemoryOffsetTable implements OffsetStore {
  /** Serializes writes so an older table never lands after a newer one. */
  private writing: Promise<void> = Promise.resolve();

  constructor(
    readonly path: string,
    private readonly log: Logger,
  ) {
    super();
  }

  private readFile(): Map<string, { mq: MessageQueue; offset: number }> {
    try {
      return loadWithBackupSync(this.path, decodeOffsetFile)?.value ?? new Map();
    } catch (err) {
      this.log.warn(
        { path: this.path, err: errorMessage(err) },
        'offset file unreadable, starting without offsets',
      );
      return new Map();
    }
  }

  async load(): Promise<void> {
    for (const [key, slot] of this.readFile()) this.setSlot(key, { ...slot });
  }

  async readOffsetFromStore(mq: MessageQueue): Promise<number> {
    const slot = this.readFile().get(mqKey(mq));
    if (!slot) return OFFSET_NOT_FOUND;
    this.updateOffset(mq, slot.offset, false);
    return slot.offset;
  }

  async persistAll(mqs: readonly MessageQueue[]): Promise<void> {
    if (mqs.length === 0) return;
    const keep = new Set(mqs.map(mqKey));
    const table = new Map<MessageQueue, number>();
    for (const [key, slot] of this.slots()) if (keep.has(key)) table.set(slot.mq, slot.offset);
    const text = writeJson({ offsetTable: table }, { pretty: true });
    const write = this.writing.then(() => writeFileAtomic(this.path, text));
    this.writing = write.catch((err: unknown) => {
      this.log.warn({ path: this.path, err: errorMessage(err) }, 'cannot write the offset file');
    });
    await this.writing;
  }

  /** Local offsets are written with the whole table only (as upstream). */
  async persist(): Promise<void> {}
}
