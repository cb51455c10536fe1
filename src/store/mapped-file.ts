/**
 * One pre-sized store file (upstream MappedFile, without the mmap): the CommitLog's segments and
 * each ConsumeQueue's files. Named by the absolute offset of its first byte as a 20-digit,
 * zero-padded decimal (`00000000001073741824`), sized once at creation with ftruncate so the file
 * never grows while records are written into it; bytes past the valid end are zeros.
 *
 * Positions are relative to the file: `wrotePosition` = bytes handed to the kernel,
 * `flushedPosition` = bytes covered by a completed fdatasync. Only the owner of the file (the
 * CommitLog writer or one ConsumeQueue) writes; reads may come from anyone.
 */
import { join } from 'node:path';
import type { StoreFs } from './io/store-fs.js';

export const FILE_NAME_DIGITS = 20;

export function offsetToFileName(offset: number): string {
  return String(offset).padStart(FILE_NAME_DIGITS, '0');
}

export function fileNameToOffset(name: string): number | undefined {
  if (!/^\d{20}$/.test(name)) return undefined;
  const n = Number(name);
  return Number.isSafeInteger(n) ? n : undefined;
}

export class MappedFile {
  fd = -1;
  /** O_DIRECT descriptor for the CommitLog writer (-1: none; see openDirect). */
  directFd = -1;
  private directOpen: Promise<boolean> | undefined;
  /** Whether openDirect succeeded; undefined until it finished. */
  directOpened: boolean | undefined;
  wrotePosition = 0;
  flushedPosition = 0;
  /** Resolves when the file is open and sized; rejects when it could not be created. */
  readonly ready: Promise<void>;
  openError: unknown;
  /** Time of the last write, ms (retention compares it with fileReservedTime). */
  lastModified = Date.now();
  destroyed = false;
  private flushing: Promise<void> | undefined;

  private constructor(
    private readonly fs: StoreFs,
    readonly path: string,
    readonly fileFromOffset: number,
    readonly fileSize: number,
    open: (self: MappedFile) => Promise<void>,
  ) {
    this.ready = open(this).catch((err: unknown) => {
      this.openError = err;
      throw err;
    });
    // Callers that never await `ready` must not see an unhandled rejection; the error is kept.
    this.ready.catch(() => undefined);
  }

  /** Creates a new zero-filled (sparse) file of `fileSize` bytes. */
  static create(fs: StoreFs, dir: string, fromOffset: number, fileSize: number): MappedFile {
    return new MappedFile(fs, join(dir, offsetToFileName(fromOffset)), fromOffset, fileSize, async (self) => {
      const fd = await fs.open(self.path, 'w+');
      self.fd = fd;
      await fs.ftruncate(fd, fileSize);
    });
  }

  /** Opens an existing file; a size other than `fileSize` is corrected (see MappedFileQueue.load). */
  static async openExisting(
    fs: StoreFs,
    path: string,
    fromOffset: number,
    fileSize: number,
  ): Promise<MappedFile> {
    const f = new MappedFile(fs, path, fromOffset, fileSize, async (self) => {
      self.fd = await fs.open(path, 'r+');
    });
    await f.ready;
    return f;
  }

  get name(): string {
    return offsetToFileName(this.fileFromOffset);
  }

  /** Absolute offset one past the last byte of this file. */
  get fileEndOffset(): number {
    return this.fileFromOffset + this.fileSize;
  }

  async actualSize(): Promise<number> {
    return this.fs.fstatSize(this.fd);
  }

  async write(buf: Uint8Array, off: number, len: number, relPos: number): Promise<void> {
    if (this.fd < 0) await this.ready;
    await this.fs.write(this.fd, buf, off, len, relPos);
    if (relPos + len > this.wrotePosition) this.wrotePosition = relPos + len;
    this.lastModified = Date.now();
  }

  /**
   * Opens the O_DIRECT descriptor once; false when the file system refuses it (then the caller
   * writes through the page cache).
   */
  openDirect(): Promise<boolean> {
    this.directOpen ??= (async () => {
      if (!this.fs.openDirect || this.destroyed) return false;
      await this.ready;
      try {
        this.directFd = await this.fs.openDirect(this.path);
        return true;
      } catch {
        return false;
      }
    })().then((ok) => (this.directOpened = ok));
    return this.directOpen;
  }

  /** Writes through the O_DIRECT descriptor (aligned buffer, offset and length). */
  async writeDirect(
    buf: Uint8Array,
    off: number,
    len: number,
    relPos: number,
    logicalEnd: number,
  ): Promise<void> {
    await this.fs.write(this.directFd, buf, off, len, relPos);
    if (logicalEnd > this.wrotePosition) this.wrotePosition = logicalEnd;
    this.lastModified = Date.now();
  }

  /** Bytes up to `relEnd` were written by someone else (the CommitLog's writer thread). */
  noteWritten(relEnd: number): void {
    if (relEnd > this.wrotePosition) this.wrotePosition = relEnd;
    this.lastModified = Date.now();
  }

  /**
   * Writes without moving positions (preallocation zeros) and syncs them; through the O_DIRECT
   * descriptor when `direct` (then `buf` must be aligned): zeros left in the page cache would have
   * to be written back before every direct write over them.
   */
  async writeZerosAndSync(buf: Uint8Array, len: number, relPos: number, direct = false): Promise<void> {
    if (this.fd < 0) await this.ready;
    const fd = direct && (await this.openDirect()) ? this.directFd : this.fd;
    await this.fs.write(fd, buf, 0, len, relPos);
    await this.fs.fdatasync(this.fd);
  }

  async read(buf: Uint8Array, off: number, len: number, relPos: number): Promise<number> {
    if (this.fd < 0) await this.ready;
    return this.fs.read(this.fd, buf, off, len, relPos);
  }

  /** Reads through the O_DIRECT descriptor (aligned buffer, offset and length; see openDirect). */
  readDirect(buf: Uint8Array, off: number, len: number, relPos: number): Promise<number> {
    return this.fs.read(this.directFd, buf, off, len, relPos);
  }

  readSync(buf: Uint8Array, off: number, len: number, relPos: number): number {
    return this.fs.readSync(this.fd, buf, off, len, relPos);
  }

  /** fdatasync up to the current wrotePosition; concurrent callers share one call. */
  async flush(): Promise<number> {
    while (this.flushing) await this.flushing;
    const target = this.wrotePosition;
    if (target <= this.flushedPosition || this.destroyed) return this.flushedPosition;
    this.flushing = (async () => {
      await this.fs.fdatasync(this.fd);
      if (target > this.flushedPosition) this.flushedPosition = target;
    })();
    try {
      await this.flushing;
    } finally {
      this.flushing = undefined;
    }
    return this.flushedPosition;
  }

  /**
   * Makes every byte from `relPos` to the end zero and sets the positions there. Shrinking and
   * re-growing the file frees the blocks, so this is instant and works on a full disk.
   */
  async truncateTo(relPos: number): Promise<void> {
    if (this.fd < 0) await this.ready;
    await this.fs.ftruncate(this.fd, relPos);
    await this.fs.ftruncate(this.fd, this.fileSize);
    await this.fs.fdatasync(this.fd);
    this.wrotePosition = relPos;
    this.flushedPosition = relPos;
  }

  /** Forces the on-disk length to fileSize (a crash while the file was being sized). */
  async fixSize(): Promise<void> {
    await this.fs.ftruncate(this.fd, this.fileSize);
  }

  async close(): Promise<void> {
    if (this.directOpen) await this.directOpen;
    if (this.directFd >= 0) {
      const fd = this.directFd;
      this.directFd = -1;
      await this.fs.close(fd).catch(() => undefined);
    }
    if (this.fd >= 0) {
      const fd = this.fd;
      this.fd = -1;
      await this.fs.close(fd).catch(() => undefined);
    }
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
    await this.ready.catch(() => undefined);
    await this.close();
    await this.fs.unlink(this.path).catch(() => undefined);
  }
}
