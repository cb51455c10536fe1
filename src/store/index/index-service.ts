/**
 * The set of IndexFiles (upstream IndexService): builds entries for dispatched messages
 * (`topic#UNIQ_KEY` and `topic#<each KEYS word>`, rollback records excluded; the dispatcher hands
 * over their hashes, see dispatch/dispatch-keys.ts) into the newest file,
 * rolling to a new file when it is full, and answers key queries newest file first.
 * Files wholly below the CommitLog minimum are deleted by retention.
 */
import { join } from 'node:path';
import type { Logger } from '../../common/logger.js';
import type { StoreFs } from '../io/store-fs.js';
import { IndexFile, indexFileName } from './index-file.js';

const WRITE_THRESHOLD = 1024 * 1024;

/** A record's keys held back while the next index file is being created. */
interface Pending {
  phy: number;
  storeTs: number;
  hashes: number[];
}

export class IndexService {
  private files: IndexFile[] = [];
  private creating: Promise<IndexFile> | undefined;
  /** Records that arrived while a new file was being created. */
  private backlog: Pending[] = [];
  private writeScheduled = false;

  constructor(
    private readonly fs: StoreFs,
    private readonly dir: string,
    private readonly slotNum: number,
    private readonly indexNum: number,
    private readonly log: Logger,
  ) {}

  async load(): Promise<void> {
    let names: string[] = [];
    try {
      names = (await this.fs.readdir(this.dir)).filter((n) => /^\d{17}$/.test(n)).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    for (let i = 0; i < names.length; i++) {
      const writable = i === names.length - 1;
      this.files.push(
        await IndexFile.open(this.fs, join(this.dir, names[i]!), this.slotNum, this.indexNum, writable),
      );
    }
  }

  /** CommitLog offset of the newest indexed record (-1 when none). */
  get endPhyOffset(): number {
    const last = this.files[this.files.length - 1];
    return last && last.header.indexCount > 1 ? last.header.endPhyOffset : -1;
  }

  get lastUpdateTimestamp(): number {
    return this.files[this.files.length - 1]?.header.endTimestamp ?? 0;
  }

  /**
   * Indexes one record under the key hashes keys[(from + k) & mask], k < count (hashes of
   * `topic#key`, see dispatch-keys.ts; mask -1 for a plain array). Rollback records never get here.
   */
  addRecord(
    phy: number,
    storeTs: number,
    keys: ArrayLike<number>,
    from: number,
    count: number,
    mask: number,
  ): void {
    if (count === 0 || phy <= this.endPhyOffset) return;
    const last = this.files[this.files.length - 1];
    if (!last || last.isFull || this.creating) {
      const hashes: number[] = [];
      for (let k = 0; k < count; k++) hashes.push(keys[(from + k) & mask]!);
      this.backlog.push({ phy, storeTs, hashes });
      this.roll();
      return;
    }
    for (let k = 0; k < count; k++) {
      if (!last.putKey(keys[(from + k) & mask]!, phy, storeTs)) {
        // Full mid-message: the remaining keys go to the next file.
        const rest: number[] = [];
        for (; k < count; k++) rest.push(keys[(from + k) & mask]!);
        this.backlog.push({ phy, storeTs, hashes: rest });
        this.roll();
        return;
      }
    }
    if (last.pendingBytes >= WRITE_THRESHOLD && !this.writeScheduled) {
      this.writeScheduled = true;
      setImmediate(() => {
        this.writeScheduled = false;
        last.writeEntries().catch((err: unknown) => this.log.error({ err }, 'index write failed'));
      });
    }
  }

  /**
   * Creates the file new keys go to now when there is none (a new store, or the last file full):
   * created on the first put instead, it kept every put of its first ~100 ms under load waiting
   * in the backlog, replayed in one burst after.
   */
  async ensureWritable(): Promise<void> {
    const last = this.files[this.files.length - 1];
    if (!last || last.isFull) this.roll();
    while (this.creating) await this.creating.catch(() => undefined);
  }

  private roll(): void {
    if (this.creating) return;
    const prev = this.files[this.files.length - 1];
    this.creating = (async () => {
      if (prev) {
        await prev.write(true);
        prev.seal();
      }
      await this.fs.mkdir(this.dir);
      let ts = Date.now();
      const lastName = prev ? prev.path.slice(-17) : '';
      while (indexFileName(ts) <= lastName) ts++;
      const f = await IndexFile.create(
        this.fs,
        join(this.dir, indexFileName(ts)),
        this.slotNum,
        this.indexNum,
      );
      this.log.info({ file: f.path }, 'created index file');
      return f;
    })();
    this.creating
      .then((f) => {
        this.files.push(f);
        this.creating = undefined;
        const pending = this.backlog;
        this.backlog = [];
        for (const r of pending) this.addRecord(r.phy, r.storeTs, r.hashes, 0, r.hashes.length, -1);
      })
      .catch((err: unknown) => {
        this.creating = undefined;
        this.log.error(
          { err, dropped: this.backlog.length },
          'could not create an index file; keys not indexed',
        );
        this.backlog = [];
      });
  }

  /** Writes (and with `sync`, fdatasyncs) the newest file. */
  async flush(sync: boolean): Promise<void> {
    while (this.creating) await this.creating.catch(() => undefined);
    const last = this.files[this.files.length - 1];
    if (last) await last.write(sync);
  }

  async queryOffsets(
    topic: string,
    key: string,
    maxNum: number,
    begin: number,
    end: number,
  ): Promise<number[]> {
    while (this.creating) await this.creating.catch(() => undefined);
    const out: number[] = [];
    const full = topic + '#' + key;
    for (let i = this.files.length - 1; i >= 0 && out.length < maxNum; i--) {
      const f = this.files[i]!;
      if (!f.isTimeMatched(begin, end)) continue;
      await f.selectPhyOffsets(full, maxNum, begin, end, out);
    }
    return out;
  }

  /** Deletes files (never the newest) whose every entry is below `minPhyOffset`. */
  async deleteExpired(minPhyOffset: number): Promise<number> {
    let n = 0;
    while (this.files.length > 1 && this.files[0]!.header.endPhyOffset < minPhyOffset) {
      const f = this.files.shift()!;
      await f.destroy();
      n++;
    }
    return n;
  }

  async destroyAll(): Promise<void> {
    for (const f of this.files) await f.destroy();
    this.files = [];
  }

  async close(): Promise<void> {
    while (this.creating) await this.creating.catch(() => undefined);
    for (const f of this.files) await f.close();
  }
}
