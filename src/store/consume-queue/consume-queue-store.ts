/**
 * Every ConsumeQueue of the store, by topic and queue id (upstream consumeQueueTable), under
 * `<storePathConsumeQueue>/<topic>/<queueId>/`. Queues are created on first dispatch; a write pass
 * hands the dispatched tails to the files shortly after each dispatch batch.
 */
import { join } from 'node:path';
import type { Logger } from '../../common/logger.js';
import type { StoreFs } from '../io/store-fs.js';
import { ConsumeQueue } from './consume-queue.js';

/**
 * How long dispatched units wait before a write pass hands them to the files. Readers take them
 * from memory at once, and a crash loses nothing (recovery re-dispatches from the checkpoint, which
 * only moves after a flush), so this only trades syscalls: every 10 ms, as before, meant one
 * thread-pool write per active queue each time, ~800 a second for a topic of 8 queues at any rate.
 */
const WRITE_DELAY_MS = 100;

export class ConsumeQueueStore {
  readonly table = new Map<string, Map<number, ConsumeQueue>>();
  private readonly dirty = new Set<ConsumeQueue>();
  /** The pending write pass, if any (cancelled by close, which writes at once). */
  private writeTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Units dispatched since the last flushAll (flushConsumeQueueLeastPages). */
  unitsSinceFlush = 0;
  private writing: Promise<void> | undefined;

  constructor(
    private readonly fs: StoreFs,
    readonly rootDir: string,
    private readonly fileSize: number,
    private readonly log: Logger,
  ) {}

  async load(): Promise<void> {
    let topics: string[] = [];
    try {
      topics = await this.fs.readdir(this.rootDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    for (const topic of topics) {
      let ids: string[];
      try {
        ids = await this.fs.readdir(join(this.rootDir, topic));
      } catch {
        continue;
      }
      for (const id of ids) {
        if (!/^\d+$/.test(id)) continue;
        const cq = new ConsumeQueue(this.fs, this.rootDir, topic, Number(id), this.fileSize, this.log);
        await cq.load();
        this.byTopic(topic).set(Number(id), cq);
      }
    }
  }

  private byTopic(topic: string): Map<number, ConsumeQueue> {
    let m = this.table.get(topic);
    if (!m) {
      m = new Map();
      this.table.set(topic, m);
    }
    return m;
  }

  find(topic: string, queueId: number): ConsumeQueue | undefined {
    return this.table.get(topic)?.get(queueId);
  }

  findOrCreate(topic: string, queueId: number): ConsumeQueue {
    const m = this.byTopic(topic);
    let cq = m.get(queueId);
    if (!cq) {
      cq = new ConsumeQueue(this.fs, this.rootDir, topic, queueId, this.fileSize, this.log);
      m.set(queueId, cq);
    }
    return cq;
  }

  all(): ConsumeQueue[] {
    const out: ConsumeQueue[] = [];
    for (const m of this.table.values()) for (const cq of m.values()) out.push(cq);
    return out;
  }

  /** Appends a unit; the write pass follows on its own. */
  put(
    topic: string,
    queueId: number,
    phy: number,
    size: number,
    tagsCode: number,
    cqOffset: number,
  ): boolean {
    const cq = this.findOrCreate(topic, queueId);
    const added = cq.putUnit(phy, size, tagsCode, cqOffset);
    if (added) {
      this.unitsSinceFlush++;
      this.dirty.add(cq);
      if (!this.writeTimer && !this.closed) {
        this.writeTimer = setTimeout(() => void this.writeDirty(), WRITE_DELAY_MS);
      }
    }
    return added;
  }

  /** Hands every dirty tail to the kernel. */
  async writeDirty(): Promise<void> {
    clearTimeout(this.writeTimer);
    this.writeTimer = undefined;
    if (this.closed) return;
    while (this.writing) await this.writing;
    const batch = [...this.dirty];
    this.dirty.clear();
    this.writing = (async () => {
      for (const cq of batch) {
        try {
          await cq.writeTail();
        } catch (err) {
          this.log.error({ err, topic: cq.topic, queueId: cq.queueId }, 'consume queue write failed');
          this.dirty.add(cq);
        }
      }
    })();
    try {
      await this.writing;
    } finally {
      this.writing = undefined;
    }
  }

  /** Writes and fdatasyncs every queue (checkpoint). */
  async flushAll(): Promise<void> {
    this.unitsSinceFlush = 0;
    await this.writeDirty();
    for (const cq of this.all()) await cq.flush();
  }

  async truncateFromPhy(phyOffset: number): Promise<void> {
    for (const cq of this.all())
      if (cq.maxPhysicOffset < 0 || cq.maxPhysicOffset > phyOffset) await cq.truncateFromPhy(phyOffset);
  }

  async deleteTopic(topic: string): Promise<void> {
    const m = this.table.get(topic);
    this.table.delete(topic);
    if (m) {
      for (const cq of m.values()) {
        this.dirty.delete(cq);
        await cq.destroy();
      }
    }
    await this.fs.rmdir(join(this.rootDir, topic)).catch(() => undefined);
  }

  /** Writes what is pending, then closes every queue; no write pass runs after this. */
  async close(): Promise<void> {
    await this.writeDirty();
    this.closed = true;
    for (const cq of this.all()) await cq.close();
  }
}
