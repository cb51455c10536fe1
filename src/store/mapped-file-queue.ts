/**
 * A directory of equally sized MappedFiles forming one contiguous address space (upstream
 * MappedFileQueue): the CommitLog, or one ConsumeQueue. File i covers
 * [first.fileFromOffset + i*fileSize, ... + fileSize). Loading accepts only 20-digit names;
 * a last file of the wrong length (a crash while it was being created) is resized, never a
 * reason to refuse to start; a wrong length in the middle is reported as corruption.
 */
import { join } from 'node:path';
import { RmqError, ErrorCode } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { StoreFs } from './io/store-fs.js';
import { MappedFile, fileNameToOffset } from './mapped-file.js';

export class MappedFileQueue {
  files: MappedFile[] = [];

  constructor(
    private readonly fs: StoreFs,
    readonly dir: string,
    readonly fileSize: number,
    private readonly log: Logger,
  ) {}

  async load(): Promise<void> {
    let names: string[];
    try {
      names = await this.fs.readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const entries = names
      .map((n) => ({ n, off: fileNameToOffset(n) }))
      .filter((e): e is { n: string; off: number } => e.off !== undefined)
      .sort((a, b) => a.off - b.off);
    for (let i = 0; i < entries.length; i++) {
      const { n, off } = entries[i]!;
      const f = await MappedFile.openExisting(this.fs, join(this.dir, n), off, this.fileSize);
      const size = await f.actualSize();
      if (size !== this.fileSize) {
        if (i === entries.length - 1) {
          this.log.warn(
            { file: f.path, size, expected: this.fileSize },
            'last file has the wrong length; resizing',
          );
          await f.fixSize();
        } else {
          await f.close();
          for (const g of this.files) await g.close();
          throw new RmqError(
            ErrorCode.STORE_CORRUPT,
            `${f.path}: length ${size} differs from the configured file size ${this.fileSize}; check the store and its config`,
          );
        }
      }
      const prev = this.files[this.files.length - 1];
      if (prev && prev.fileFromOffset + this.fileSize !== off) {
        this.log.error({ dir: this.dir, after: prev.name, file: n }, 'gap between store files');
      }
      // Until recovery says otherwise, every loaded file is full.
      f.wrotePosition = this.fileSize;
      f.flushedPosition = this.fileSize;
      f.lastModified = await this.fs.mtimeMs(f.path);
      this.files.push(f);
    }
  }

  get first(): MappedFile | undefined {
    return this.files[0];
  }

  get last(): MappedFile | undefined {
    return this.files[this.files.length - 1];
  }

  /** Creates the file starting at `fromOffset` and appends it (open/size run in the background). */
  createFile(fromOffset: number): MappedFile {
    const f = MappedFile.create(this.fs, this.dir, fromOffset, this.fileSize);
    this.files.push(f);
    return f;
  }

  async ensureDir(): Promise<void> {
    await this.fs.mkdir(this.dir);
  }

  /** The file holding absolute `offset`, or undefined. */
  findByOffset(offset: number): MappedFile | undefined {
    const first = this.files[0];
    if (!first || offset < first.fileFromOffset) return undefined;
    const idx = Math.floor((offset - first.fileFromOffset) / this.fileSize);
    const f = this.files[idx];
    if (f && offset >= f.fileFromOffset && offset < f.fileEndOffset) return f;
    // Files may have a gap after a manual deletion; fall back to a scan.
    return this.files.find((g) => offset >= g.fileFromOffset && offset < g.fileEndOffset);
  }

  minOffset(): number {
    return this.files[0]?.fileFromOffset ?? 0;
  }

  /** Absolute offset one past the last byte handed to the kernel. */
  maxWroteOffset(): number {
    const l = this.last;
    return l ? l.fileFromOffset + l.wrotePosition : 0;
  }

  /**
   * Sets positions so that `offset` is the end: later files are deleted, the rest of its file zeroed.
   * `derived`: the files hold data derived from the CommitLog (a consume queue), whose units past
   * the recovered position point at nothing or are dispatched again, so removing them is routine;
   * CommitLog files past the last valid record are worth a warning.
   */
  async truncateDirty(offset: number, derived = false): Promise<void> {
    const keep: MappedFile[] = [];
    for (const f of this.files) {
      if (f.fileEndOffset <= offset) {
        keep.push(f);
      } else if (f.fileFromOffset <= offset) {
        await f.ready;
        await f.truncateTo(offset - f.fileFromOffset);
        keep.push(f);
      } else {
        if (derived)
          this.log.info(
            { file: f.path, offset },
            'removing consume queue file past the recovered CommitLog position',
          );
        else this.log.warn({ file: f.path, offset }, 'deleting CommitLog file past the last valid record');
        await f.destroy();
      }
    }
    this.files = keep;
  }

  /** Deletes the first file (retention); the caller has decided it may go. */
  async deleteFirst(): Promise<MappedFile | undefined> {
    const f = this.files.shift();
    if (f) await f.destroy();
    return f;
  }

  async destroyAll(): Promise<void> {
    for (const f of this.files) await f.destroy();
    this.files = [];
  }

  async closeAll(): Promise<void> {
    for (const f of this.files) {
      await f.ready.catch(() => undefined);
      await f.close();
    }
  }
}
