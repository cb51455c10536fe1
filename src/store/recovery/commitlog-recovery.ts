/**
 * Finding the valid end of the CommitLog at start (upstream recoverNormally / recoverAbnormally).
 *
 * After a clean shutdown the checkpoint holds the exact end; it is trusted once the bytes there
 * are confirmed to be zeros. Otherwise the walk starts at a safe point: the checkpoint's
 * dispatchedPhyOffset (every record below it is durable and has durable queue units), or for a
 * store without that extension the segment whose first message is older than the checkpoint
 * timestamps (upstream's rule), and checks every record's magic, lengths, position and CRC. The
 * first record that fails ends the valid log: a torn tail (a record cut short, garbage) is cut; a
 * CRC failure with more data after it is reported with file and offset before it is cut, so the
 * store starts on what is valid instead of skipping over damage. Later segments are deleted and
 * the rest of the last one zeroed. Every valid record walked is handed to `onRecord` (the
 * dispatcher), so queues are rebuilt from the same pass.
 */
import type { Logger } from '../../common/logger.js';
import { readInt64 } from '../../common/int64.js';
import { MESSAGE_MAGIC_CODE } from '../../common/message/message-record.js';
import type { CommitLog } from '../commitlog/commitlog.js';
import { checkRecord, type CheckOptions, type DispatchRequest } from '../commitlog/record-check.js';
import type { StoreCheckpoint } from '../checkpoint.js';

export interface RecoveryProblem {
  file: string;
  offset: number;
  reason: string;
  /** Bytes after the problem that looked like data and were cut. */
  droppedBytes: number;
}

export interface RecoveryReport {
  abnormal: boolean;
  scanFrom: number;
  validEnd: number;
  scannedBytes: number;
  problems: RecoveryProblem[];
  /** Where start() spent its time: loading files and tables, walking the log, the rest. */
  timings?: { loadMs: number; scanMs: number; finishMs: number };
}

const READ_CHUNK = 8 * 1024 * 1024;

// lib ES2023 has no WebAssembly types; a page-aligned buffer is all that is needed.
declare const WebAssembly: {
  Memory: new (d: { initial: number; maximum: number }) => { buffer: ArrayBuffer };
};

/** First store timestamp of a segment, or -1. */
async function firstTimestamp(commitLog: CommitLog, idx: number): Promise<number> {
  const f = commitLog.files.files[idx]!;
  const b = Buffer.alloc(128);
  const n = await f.read(b, 0, b.length, 0);
  if (n < 100 || b.readInt32BE(4) !== MESSAGE_MAGIC_CODE) return -1;
  const bornHostLen = b.readInt32BE(36) & 0x10 ? 20 : 8;
  return readInt64(b, 48 + bornHostLen);
}

export async function chooseScanStart(
  commitLog: CommitLog,
  cp: StoreCheckpoint,
  abnormal: boolean,
): Promise<{ start: number; trustedEnd: number | undefined }> {
  const files = commitLog.files.files;
  if (files.length === 0) return { start: 0, trustedEnd: 0 };
  const min = files[0]!.fileFromOffset;
  const max = files[files.length - 1]!.fileEndOffset;
  if (!abnormal && cp.cleanEndOffset >= min && cp.cleanEndOffset <= max) {
    return { start: cp.cleanEndOffset, trustedEnd: cp.cleanEndOffset };
  }
  if (cp.dispatchedPhyOffset >= 0 && cp.flushedPhyOffset >= 0) {
    const s = Math.min(cp.dispatchedPhyOffset, cp.flushedPhyOffset);
    if (s >= min && s <= max) return { start: s, trustedEnd: undefined };
  }
  if (!abnormal)
    return { start: files[Math.max(0, files.length - 3)]!.fileFromOffset, trustedEnd: undefined };
  const minTs = cp.minTimestamp();
  for (let i = files.length - 1; i >= 0; i--) {
    const ts = await firstTimestamp(commitLog, i);
    if (ts >= 0 && ts <= minTs) return { start: files[i]!.fileFromOffset, trustedEnd: undefined };
  }
  return { start: min, trustedEnd: undefined };
}

/** Walks from `start`, dispatching valid records; returns where the valid log ends. */
export async function scanCommitLog(
  commitLog: CommitLog,
  start: number,
  opts: CheckOptions,
  onRecord: (r: DispatchRequest) => void,
  log: Logger,
): Promise<{ validEnd: number; scanned: number; problems: RecoveryProblem[] }> {
  const problems: RecoveryProblem[] = [];
  const files = commitLog.files.files;
  let offset = start;
  let scanned = 0;
  // Page-aligned so the walk can read with O_DIRECT (direct-I/O CommitLog: nothing of it is in the
  // page cache, and filling it costs more than the read on a VM); slack for block alignment.
  const aligned = Buffer.from(
    new WebAssembly.Memory({ initial: READ_CHUNK / 65536 + 1, maximum: READ_CHUNK / 65536 + 1 }).buffer,
  );
  let big: Buffer | undefined;
  let buf: Buffer;
  for (;;) {
    const file = commitLog.files.findByOffset(offset);
    if (!file) break;
    const rel = offset - file.fileFromOffset;
    let n: number;
    if (big) {
      // A record larger than the aligned buffer: read it on its own.
      buf = big;
      big = undefined;
      n = await file.read(buf, 0, Math.min(buf.length, file.fileSize - rel), rel);
    } else {
      const len = Math.min(READ_CHUNK, file.fileSize - rel);
      const base = await commitLog.readAligned(offset, len, aligned, true);
      if (base < 0) break;
      buf = aligned.subarray(base, base + len);
      n = len;
    }
    scanned += n;
    let pos = 0;
    let stop: { reason: string } | undefined;
    let advancedFile = false;
    while (pos < n) {
      const at = offset + pos;
      const res = checkRecord(buf, pos, n - pos, at, opts);
      if (res.kind === 'message') {
        onRecord(res.dispatch);
        pos += res.size;
      } else if (res.kind === 'blank') {
        if (at + res.size !== file.fileEndOffset) {
          stop = { reason: `end-of-file filler of ${res.size} bytes does not reach the segment end` };
        } else {
          offset = file.fileEndOffset;
          advancedFile = true;
        }
        break;
      } else if (res.kind === 'need') {
        if (pos === 0) {
          if (res.size > file.fileSize - rel) stop = { reason: 'record runs past the segment end' };
          else big = Buffer.allocUnsafe(res.size);
        }
        break;
      } else if (res.kind === 'end') {
        stop = { reason: '' };
        break;
      } else {
        stop = { reason: res.reason };
        break;
      }
    }
    if (advancedFile) continue;
    if (!stop) {
      offset += pos;
      if (offset >= file.fileEndOffset) {
        // A segment filled exactly (no filler needed): continue with the next one.
        if (!files.some((f) => f.fileFromOffset === file.fileEndOffset)) break;
      }
      if (n === 0) break;
      continue;
    }
    offset += pos;
    if (stop.reason) {
      const dropped = (await dataAfter(commitLog, offset)) ?? 0;
      const p: RecoveryProblem = { file: file.path, offset, reason: stop.reason, droppedBytes: dropped };
      problems.push(p);
      // A record cut short by a crash leaves its own first bytes (direct writes go out in whole
      // 4 KiB blocks, so a block can end inside a record): only data past its declared end is
      // damage in the middle of the log.
      const declared = pos + 8 <= n ? buf.readInt32BE(pos) : 0;
      const beyond =
        declared > 0 && declared <= opts.maxRecordSize && buf.readInt32BE(pos + 4) === MESSAGE_MAGIC_CODE
          ? await dataAfter(commitLog, offset + declared)
          : dropped;
      if (beyond > 0) {
        log.error(
          p,
          'CommitLog record failed its check with data after it; the log is cut here (data after it is dropped)',
        );
      } else {
        log.warn(p, 'CommitLog torn tail cut');
      }
    }
    break;
  }
  return { validEnd: offset, scanned, problems };
}

/** Roughly how many non-zero bytes follow `offset` in its segment plus later segments. */
async function dataAfter(commitLog: CommitLog, offset: number): Promise<number> {
  let total = 0;
  const probe = Buffer.allocUnsafe(1024 * 1024);
  for (const f of commitLog.files.files) {
    if (f.fileEndOffset <= offset) continue;
    let rel = Math.max(0, offset - f.fileFromOffset);
    let lastNonZero = -1;
    while (rel < f.fileSize) {
      const n = await f.read(probe, 0, Math.min(probe.length, f.fileSize - rel), rel);
      if (n <= 0) break;
      for (let i = n - 1; i >= 0; i--) {
        if (probe[i] !== 0) {
          lastNonZero = rel + i;
          break;
        }
      }
      rel += n;
      if (f.fileSize > 64 * 1024 * 1024 && rel - Math.max(0, offset - f.fileFromOffset) > 64 * 1024 * 1024)
        break;
    }
    if (lastNonZero >= 0) total += lastNonZero + 1 - Math.max(0, offset - f.fileFromOffset);
  }
  return total;
}
