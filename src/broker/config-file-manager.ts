/**
 * Base of the broker's JSON state files under `<storePathRootDir>/config/` (topics.json,
 * subscriptionGroup.json, consumerOffset.json, delayOffset.json). Written in fastjson's pretty
 * format so upstream tools read them, atomically (tmp + rename, previous kept as .bak); read back
 * with a fallback to .bak. Persisting is coalesced: many changes in a burst give one write.
 */
import { loadWithBackupSync, writeFileAtomic, writeFileAtomicSync } from '../common/atomic-file.js';
import { RmqError, ErrorCode, errorMessage } from '../common/errors.js';
import type { Logger } from '../common/logger.js';

export abstract class ConfigFileManager {
  private writing: Promise<void> = Promise.resolve();
  private pending = false;

  protected constructor(
    readonly path: string,
    protected readonly log: Logger,
  ) {}

  /** The file's content now. */
  protected abstract encode(): string;
  /** Replaces the in-memory state with the file's. */
  protected abstract decode(text: string): void;

  /** Loads the file or its .bak; a file that exists but cannot be parsed stops start-up. */
  load(): void {
    let loaded;
    try {
      loaded = loadWithBackupSync(this.path, (text) => {
        this.decode(text);
        return true;
      });
    } catch (err) {
      throw new RmqError(ErrorCode.CONFIG_INVALID, `cannot load ${this.path}: ${errorMessage(err)}`, {
        cause: err,
      });
    }
    if (loaded) this.log.info({ file: loaded.from }, 'loaded');
  }

  /** Schedules a write of the current state (coalesced). */
  persist(): Promise<void> {
    if (this.pending) return this.writing;
    this.pending = true;
    this.writing = this.writing.then(async () => {
      this.pending = false;
      try {
        await writeFileAtomic(this.path, this.encode());
      } catch (err) {
        this.log.error({ err, file: this.path }, 'cannot persist');
      }
    });
    return this.writing;
  }

  /** Waits for writes in flight, then writes the current state (shutdown). */
  async flush(): Promise<void> {
    await this.writing;
    writeFileAtomicSync(this.path, this.encode());
  }
}
