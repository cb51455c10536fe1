/**
 * What the disk gives right now, to read the store figures against: 512 MiB written sequentially
 * in 1 MiB writes into a sparse file, once with O_DIRECT and once through the page cache, each
 * followed by one fdatasync. On a VM whose fresh memory is expensive to touch (a host fault per
 * page) the page-cache figure also shows what filling the page cache costs.
 */
import fs from 'node:fs';
import { join } from 'node:path';

// lib ES2023 has no WebAssembly types; an aligned buffer is all that is needed.
declare const WebAssembly: {
  Memory: new (d: { initial: number; maximum: number }) => { buffer: ArrayBuffer };
};

const CHUNK = 1024 * 1024;
const TOTAL = 512 * CHUNK;

async function probe(path: string, direct: boolean): Promise<number> {
  fs.writeFileSync(path, '');
  fs.truncateSync(path, TOTAL);
  const flags = fs.constants.O_RDWR | (direct ? (fs.constants.O_DIRECT ?? 0) : 0);
  const fd = fs.openSync(path, flags);
  const buf = Buffer.from(new WebAssembly.Memory({ initial: CHUNK / 65536, maximum: CHUNK / 65536 }).buffer);
  buf.fill(0x61);
  const t0 = process.hrtime.bigint();
  try {
    for (let pos = 0; pos < TOTAL; pos += CHUNK) {
      await new Promise<void>((resolve, reject) =>
        fs.write(fd, buf, 0, CHUNK, pos, (err) => (err ? reject(err) : resolve())),
      );
    }
    fs.fdatasyncSync(fd);
  } finally {
    fs.closeSync(fd);
    fs.unlinkSync(path);
  }
  return TOTAL / 1048576 / (Number(process.hrtime.bigint() - t0) / 1e9);
}

export async function diskProbe(dir: string, figures: Record<string, number>): Promise<void> {
  const direct = await probe(join(dir, 'probe-direct'), true).catch(() => -1);
  const buffered = await probe(join(dir, 'probe-buffered'), false);
  figures.disk_direct_mibs = Math.round(direct);
  figures.disk_buffered_mibs = Math.round(buffered);
  console.log(
    `disk now: ${direct < 0 ? 'no O_DIRECT' : `${direct.toFixed(0)} MiB/s O_DIRECT`}, ${buffered.toFixed(0)} MiB/s through the page cache (512 MiB, 1 MiB writes + fdatasync)`,
  );
}
