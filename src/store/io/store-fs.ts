/**
 * The file operations the store uses, behind one small interface so tests can inject faults
 * (ENOSPC on a write, EIO on fdatasync) exactly where a real disk would fail. Positional I/O only:
 * no mmap (no binding builds on Node 20), no shared file offsets.
 */
import fs from 'node:fs';

export interface DiskUsage {
  totalBytes: number;
  freeBytes: number;
}

export interface StoreFs {
  open(path: string, flags: string): Promise<number>;
  /**
   * Opens an existing file for O_DIRECT writes (bypassing the page cache); rejects where the
   * platform or file system has none. Writes through such a descriptor must be 4 KiB aligned in
   * memory, offset and length (see commitlog/staging.ts).
   */
  openDirect?(path: string): Promise<number>;
  close(fd: number): Promise<void>;
  /** Writes all of buf[off, off+len) at pos (loops over short writes). */
  write(fd: number, buf: Uint8Array, off: number, len: number, pos: number): Promise<void>;
  read(fd: number, buf: Uint8Array, off: number, len: number, pos: number): Promise<number>;
  readSync(fd: number, buf: Uint8Array, off: number, len: number, pos: number): number;
  fdatasync(fd: number): Promise<void>;
  ftruncate(fd: number, len: number): Promise<void>;
  fstatSize(fd: number): Promise<number>;
  /** Last modification time, ms. */
  mtimeMs(path: string): Promise<number>;
  unlink(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  mkdir(path: string): Promise<void>;
  readdir(path: string): Promise<string[]>;
  rmdir(path: string): Promise<void>;
  exists(path: string): boolean;
  writeFileSync(path: string, data: Buffer | string): void;
  readFileSync(path: string): Buffer;
  unlinkSync(path: string): void;
  diskUsage(path: string): Promise<DiskUsage>;
}

function cb<T>(fn: (done: (err: NodeJS.ErrnoException | null, v?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v as T))));
}

const O_DIRECT = fs.constants.O_DIRECT;

export const nodeStoreFs: StoreFs = {
  open: (path, flags) => cb<number>((d) => fs.open(path, flags, 0o644, d)),
  openDirect: (path) =>
    O_DIRECT === undefined
      ? Promise.reject(Object.assign(new Error('O_DIRECT is not available here'), { code: 'ENOTSUP' }))
      : cb<number>((d) => fs.open(path, fs.constants.O_RDWR | O_DIRECT, 0o644, d)),
  close: (fd) => cb<void>((d) => fs.close(fd, d)),
  write(fd, buf, off, len, pos) {
    return new Promise<void>((resolve, reject) => {
      const step = (o: number, l: number, p: number): void => {
        fs.write(fd, buf, o, l, p, (err, n) => {
          if (err) return reject(err);
          if (n < l) return step(o + n, l - n, p + n);
          resolve();
        });
      };
      step(off, len, pos);
    });
  },
  read: (fd, buf, off, len, pos) => cb<number>((d) => fs.read(fd, buf, off, len, pos, d)),
  readSync: (fd, buf, off, len, pos) => fs.readSync(fd, buf, off, len, pos),
  fdatasync: (fd) => cb<void>((d) => fs.fdatasync(fd, d)),
  ftruncate: (fd, len) => cb<void>((d) => fs.ftruncate(fd, len, d)),
  fstatSize: (fd) => cb<fs.Stats>((d) => fs.fstat(fd, d)).then((s) => s.size),
  mtimeMs: (path) => cb<fs.Stats>((d) => fs.stat(path, d)).then((s) => s.mtimeMs),
  unlink: (path) => cb<void>((d) => fs.unlink(path, d)),
  rename: (from, to) => cb<void>((d) => fs.rename(from, to, d)),
  mkdir: (path) =>
    cb<string | undefined>((d) => fs.mkdir(path, { recursive: true }, d)).then(() => undefined),
  readdir: (path) => cb<string[]>((d) => fs.readdir(path, d)),
  rmdir: (path) => cb<void>((d) => fs.rm(path, { recursive: true, force: true }, d)),
  exists: (path) => fs.existsSync(path),
  writeFileSync: (path, data) => fs.writeFileSync(path, data),
  readFileSync: (path) => fs.readFileSync(path),
  unlinkSync: (path) => fs.unlinkSync(path),
  async diskUsage(path) {
    const s = await fs.promises.statfs(path);
    return { totalBytes: s.blocks * s.bsize, freeBytes: s.bavail * s.bsize };
  },
};

export function isNoSpace(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG';
}
