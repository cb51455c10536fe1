/**
 * The `abort` marker (upstream `createTempFile` / `isTempFileExist`): an empty file created when the
 * store starts and removed by a clean shutdown. Found at start, it means the last run ended
 * abnormally and recovery must check the CommitLog tail and rebuild the queues beyond the checkpoint.
 */
import type { StoreFs } from './io/store-fs.js';

export class AbortFile {
  constructor(
    private readonly fs: StoreFs,
    readonly path: string,
  ) {}

  exists(): boolean {
    return this.fs.exists(this.path);
  }

  create(): void {
    this.fs.writeFileSync(this.path, String(process.pid));
  }

  remove(): void {
    try {
      this.fs.unlinkSync(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}
