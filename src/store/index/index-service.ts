/**
 * The set of IndexFiles (upstream IndexService): builds entries for dispatched messages
 * (`topic#UNIQ_KEY` and `topic#<each KEYS word>`, rollback records excluded) into the newest file,
 * rolling to a new file when it is full, and answers key queries newest file first.
 * Files wholly below the CommitLog minimum are deleted by retention.
 */
import { join } from 'node:path';
import type { Logger } from '../../common/logger.js';
import { MessageSysFlag, transactionValue } from '../../common/message/message-sysflag.js';
import type { StoreFs } from '../io/store-fs.js';
import type { DispatchRequest } from '../commitlog/record-check.js';
import { IndexFile, indexFileName, indexKeyHashWithPrefix } from './index-file.js';
import { javaStringHashCode } from '../../common/java-hash.js';

const WRITE_THRESHOLD = 1024 * 1024;

export class IndexService {
  private files: IndexFile[] = [];
  private creating: Promise<IndexFile> | undefined;
  /** Requests that arrived while a new file was being created. */
  private backlog: DispatchRequest[] = [];
  private readonly prefixHashes = new Map<string, number>();
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

  buildIndex(req: DispatchRequest): void {
    if (transactionValue(req.sysFlag) === MessageSysFlag.TRANSACTION_ROLLBACK_TYPE) return;
    if (!req.uniqKey && !req.keys) return;
    if (req.commitLogOffset <= this.endPhyOffset) return;
    const last = this.files[this.files.length - 1];
    if (!last || last.isFull || this.creating) {
      this.backlog.push(req);
      this.roll();
      return;
    }
    this.put(last, req);
  }

  private put(file: IndexFile, req: DispatchRequest): void {
    let prefixHash = this.prefixHashes.get(req.topic);
    if (prefixHash === undefined) {
      prefixHash = javaStringHashCode(req.topic + '#');
      if (this.prefixHashes.size > 10000) this.prefixHashes.clear();
      this.prefixHashes.set(req.topic, prefixHash);
    }
    if (req.uniqKey) this.putKey(file, indexKeyHashWithPrefix(prefixHash, req.uniqKey), req);
    if (req.keys) {
      for (const k of req.keys.split(' '))
        if (k) this.putKey(file, indexKeyHashWithPrefix(prefixHash, k), req);
    }
    if (file.pendingBytes >= WRITE_THRESHOLD && !this.writeScheduled) {
      this.writeScheduled = true;
      setImmediate(() => {
        this.writeScheduled = false;
        file.write(false).catch((err: unknown) => this.log.error({ err }, 'index write failed'));
      });
    }
  }

  private putKey(file: IndexFile, keyHash: number, req: DispatchRequest): void {
    if (!file.putKey(keyHash, req.commitLogOffset, req.storeTimestamp)) {
      // Full mid-message: the remaining keys go to the next file.
      this.log.debug({ file: file.path }, 'index file full');
    }
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
        for (const r of pending) this.buildIndex(r);
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
