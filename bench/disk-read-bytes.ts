import { readFileSync } from 'node:fs';

/** Bytes this process had the block layer read (/proc/self/io read_bytes; 0 where there is none). */
export function diskReadBytes(): number {
  try {
    const m = /^read_bytes: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}
