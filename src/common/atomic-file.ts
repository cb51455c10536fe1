/**
 * Config and state files (kvConfig.json, topics.json, consumerOffset.json, ...) are replaced
 * atomically: the new content goes to a tmp file beside it and is fsynced, the current file is copied to
 * `<file>.bak`, then the tmp file is renamed over it. A crash leaves either the old or the new
 * content, and `.bak` one generation back. Readers fall back to `.bak` when the file is missing
 * or does not parse.
 */
import {
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { copyFile, mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

let tmpCounter = 0;
/** A tmp name of its own per write, so overlapping writers never rename each other's file. */
function tmpName(path: string): string {
  return `${path}.${process.pid}.${++tmpCounter}.tmp`;
}

export async function writeFileAtomic(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tmpName(path);
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(content, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await copyFile(path, `${path}.bak`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await rename(tmp, path);
}

export function writeFileAtomicSync(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tmpName(path);
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, content, 0, 'utf8');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  if (existsSync(path)) copyFileSync(path, `${path}.bak`);
  renameSync(tmp, path);
}

export interface LoadedFile<T> {
  value: T;
  /** Which file it came from: the file itself or its .bak. */
  from: string;
}

/**
 * Reads and parses a state file, falling back to its .bak. Returns undefined when neither exists;
 * throws the parse error when both exist and neither parses, so bad state is never silently dropped.
 */
export function loadWithBackupSync<T>(path: string, parse: (text: string) => T): LoadedFile<T> | undefined {
  let firstError: unknown;
  for (const candidate of [path, `${path}.bak`]) {
    let text: string;
    try {
      text = readFileSync(candidate, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      firstError ??= err;
      continue;
    }
    if (text.trim() === '') continue;
    try {
      return { value: parse(text), from: candidate };
    } catch (err) {
      firstError ??= err;
    }
  }
  if (firstError !== undefined) throw firstError;
  return undefined;
}

export async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
