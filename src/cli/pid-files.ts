/**
 * Pid files let `mqshutdown` stop exactly the servers started on this machine by our commands,
 * never another process that happens to match a name. One file per process:
 * `<dir>/<role>-<pid>.pid`, removed on clean exit. The directory is $ROCKETMQ_PID_DIR, else
 * ~/.rocketmq-ts/run.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { underHome } from '../common/paths.js';

export type ServerRole = 'namesrv' | 'broker' | 'standalone';

export function pidDir(): string {
  return process.env.ROCKETMQ_PID_DIR ?? underHome('.rocketmq-ts', 'run');
}

/**
 * Kernel start time of a process (field 22 of /proc/<pid>/stat), so a pid recycled by an unrelated
 * process is never signalled. Undefined where /proc is not available.
 */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; fields after it are space-separated.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export function writePidFile(role: ServerRole, info: Record<string, string | number> = {}): () => void {
  const dir = pidDir();
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${role}-${process.pid}.pid`);
  const started = startTime(process.pid) ?? '';
  writeFileSync(file, JSON.stringify({ pid: process.pid, role, started, ...info }) + '\n');
  return () => rmSync(file, { force: true });
}

export interface RunningServer {
  pid: number;
  file: string;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Our live servers of a role; stale files (dead pids) are removed on the way. */
export function findRunning(role: ServerRole): RunningServer[] {
  const dir = pidDir();
  if (!existsSync(dir)) return [];
  const out: RunningServer[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(`${role}-`) || !name.endsWith('.pid')) continue;
    const file = join(dir, name);
    let pid: number;
    let started: string;
    try {
      const rec = JSON.parse(readFileSync(file, 'utf8')) as { pid: unknown; started?: unknown };
      pid = Number(rec.pid);
      started = String(rec.started ?? '');
    } catch {
      continue;
    }
    const current = Number.isInteger(pid) && pid > 0 && isAlive(pid) ? startTime(pid) : undefined;
    const same = current !== undefined ? started === '' || current === started : isAlive(pid);
    if (Number.isInteger(pid) && pid > 0 && same) out.push({ pid, file });
    else rmSync(file, { force: true });
  }
  return out;
}
