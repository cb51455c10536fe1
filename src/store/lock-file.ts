/**
 * The `lock` file: one process owns a store directory. Node has no flock(2), so the lock is a
 * pid file created with O_EXCL holding `pid starttime` (starttime from /proc/<pid>/stat, so a
 * recycled pid is not mistaken for the owner). A lock whose owner is gone (kill -9) is stale: it is
 * renamed aside (rename is atomic, so of two contenders only one takes it) and the create retried.
 * A Java broker's flock on the same file is not visible here; do not run both on one store.
 */
import fs from 'node:fs';
import { RmqError, ErrorCode } from '../common/errors.js';

function startTime(pid: number): string {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22, counted after the parenthesised command name (which may contain spaces).
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19] ?? '';
  } catch {
    return '';
  }
}

function alive(pid: number, start: string): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const now = startTime(pid);
  return now === '' || start === '' || now === start;
}

export class LockFile {
  private held = false;
  private readonly content = `${process.pid} ${startTime(process.pid)}\n`;

  constructor(readonly path: string) {}

  acquire(): void {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const fd = fs.openSync(this.path, 'wx', 0o644);
        fs.writeSync(fd, this.content);
        fs.fsyncSync(fd);
        fs.closeSync(fd);
        this.held = true;
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      let text: string;
      try {
        text = fs.readFileSync(this.path, 'utf8');
      } catch {
        continue;
      }
      const [pidText, start = ''] = text.trim().split(/\s+/);
      const pid = Number(pidText);
      if (text.trim() !== '' && alive(pid, start)) {
        throw new RmqError(
          ErrorCode.STORE_LOCKED,
          `${this.path}: the store is in use by process ${pid}; two processes can not open one store`,
        );
      }
      const aside = `${this.path}.stale.${process.pid}`;
      try {
        fs.renameSync(this.path, aside);
        const moved = fs.readFileSync(aside, 'utf8');
        if (moved !== text) {
          // Someone replaced the stale lock between our read and rename: put theirs back.
          fs.renameSync(aside, this.path);
          continue;
        }
        fs.unlinkSync(aside);
      } catch {
        // Another process handled the stale lock first; retry.
      }
    }
    throw new RmqError(ErrorCode.STORE_LOCKED, `${this.path}: could not take the store lock`);
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    try {
      if (fs.readFileSync(this.path, 'utf8') === this.content) fs.unlinkSync(this.path);
    } catch {
      // Already gone.
    }
  }
}
