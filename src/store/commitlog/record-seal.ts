/**
 * Sealing: filling in the two CRCs of records already encoded into a staging buffer, just before
 * they are written. The encoder leaves BODYCRC at 0 and the `__CRC32#` property's ten digits as
 * '0's (record-crc.ts); sealRecords walks the records of a range and writes both:
 *   BODYCRC  = crc32(body) & 0x7FFFFFFF
 *   __CRC32# = crc32(record bytes before the last 20) & 0x7FFFFFFF, digits least significant first
 * A body of 2 KiB or more is hashed once: the record CRC is crc32(head) combined with the body CRC
 * (zlib's crc32_combine, done inline below) then continued over the tail.
 *
 * CRC32 is most of the CPU a put costs, so sealing runs on a worker thread when the range is large
 * (writer-thread.ts). The worker gets this very function as source text (Function#toString), which
 * is why it is self-contained: no imports, no helper functions, no closures (a transpiler may
 * wrap those in helpers of its own); crc32 and the combine tables are passed in. Keep it that way
 * (a test runs it through the worker).
 */

/** x^(2^k) mod the CRC polynomial for k = 0..31 (zlib's x2n_table). */
export function crcShiftTable(): Uint32Array {
  const t = new Uint32Array(32);
  t[0] = 0x40000000;
  for (let k = 1; k < 32; k++) {
    let a = t[k - 1]!;
    let b = a;
    let p = 0;
    for (let i = 31; i >= 0; i--) {
      p ^= b & -((a >>> i) & 1);
      b = (b >>> 1) ^ (0xedb88320 & -(b & 1));
    }
    a = p >>> 0;
    t[k] = a;
  }
  return t;
}

/**
 * A region of the memory being sealed where the short ranges hashed (a record's head and tail)
 * are copied, so that hashing them needs no view of their own: three typed-array views per record
 * were the event loop's main garbage while it sealed 4 KiB records, and its young generation
 * churned enough to promote other short-lived objects (peak RSS of a 2 GiB append up to 206 MiB).
 * `mem` spans the whole buffer the sealed bytes live in; views of mem[at, at + n) are kept by n.
 */
export interface SealScratch {
  mem: Uint8Array;
  at: number;
  size: number;
  views: Map<number, Uint8Array>;
}

/**
 * Seals the records in buf[from, to); `from` is a record start. Stops at the first position that
 * does not start a whole record inside the range and returns it (normally `to`). An end-of-file
 * filler (8 bytes staged) is stepped over. With `scratch` (over the memory buf is part of), short
 * ranges are hashed from a copy there instead of from a view allocated for them.
 */
export function sealRecords(
  buf: Buffer,
  from: number,
  to: number,
  appendCrc: boolean,
  crc32: (data: Uint8Array, value?: number) => number,
  x2n: Uint32Array,
  ops: Map<number, number>,
  scratch?: SealScratch,
): number {
  const sc = scratch !== undefined && scratch.mem.buffer === buf.buffer ? scratch : undefined;
  let pos = from;
  while (pos + 8 <= to) {
    const size = buf.readInt32BE(pos);
    if (buf.readInt32BE(pos + 4) === -875286124) {
      // BLANK_MAGIC_CODE: the filler closing a segment; only its 8 bytes are staged.
      pos += 8;
      continue;
    }
    if (size < 8 || pos + size > to) break;
    const sysFlag = buf.readInt32BE(pos + 36);
    // BORNHOST and STOREHOST are 20 bytes when their IPv6 flags (0x10, 0x20) are set, else 8.
    const bodyLenPos = pos + 48 + (sysFlag & 0x10 ? 20 : 8) + 8 + (sysFlag & 0x20 ? 20 : 8) + 12;
    const bodyLen = buf.readInt32BE(bodyLenPos);
    const bodyStart = bodyLenPos + 4;
    const base = buf.byteOffset;
    const bodyCrc = crc32(new Uint8Array(buf.buffer, base + bodyStart, bodyLen));
    buf.writeInt32BE(bodyCrc & 0x7fffffff, pos + 8);
    if (appendCrc) {
      const crcAt = pos + size - 20;
      const combine = bodyLen >= 2048;
      let op = 0;
      if (combine) {
        const known = ops.get(bodyLen);
        if (known !== undefined) op = known;
        else {
          // x^(8 * bodyLen) mod p, by squaring (zlib x2nmodp).
          op = 0x80000000;
          let n = bodyLen;
          let k = 3;
          while (n > 0) {
            if (n & 1) {
              const a = x2n[k & 31]!;
              let b = op;
              let p = 0;
              for (let i = 31; i >= 0; i--) {
                p ^= b & -((a >>> i) & 1);
                b = (b >>> 1) ^ (0xedb88320 & -(b & 1));
              }
              op = p >>> 0;
            }
            n = Math.floor(n / 2);
            k++;
          }
          if (ops.size >= 4096) ops.clear();
          ops.set(bodyLen, op);
        }
      }
      // Hashed: the record up to the digits; or, combining, the head, then (after the body's CRC is
      // folded in) the tail. One loop, as the function may not define helpers (see the header).
      let crc = 0;
      for (let part = 0; part < (combine ? 2 : 1); part++) {
        const start = part === 1 ? bodyStart + bodyLen : pos;
        const len = part === 1 ? crcAt - start : combine ? bodyStart - pos : crcAt - pos;
        let view: Uint8Array | undefined;
        if (sc !== undefined && len <= sc.size) {
          const abs = buf.byteOffset - sc.mem.byteOffset + start;
          sc.mem.copyWithin(sc.at, abs, abs + len);
          view = sc.views.get(len);
          if (view === undefined) {
            if (sc.views.size >= 1024) sc.views.clear();
            view = new Uint8Array(sc.mem.buffer, sc.mem.byteOffset + sc.at, len);
            sc.views.set(len, view);
          }
        } else {
          view = new Uint8Array(buf.buffer, base + start, len);
        }
        if (part === 1) {
          crc = crc32(view, crc);
        } else if (!combine) {
          crc = crc32(view);
        } else {
          // multmodp(op, crc(head)) ^ bodyCrc: the CRC of head || body.
          let b = crc32(view);
          let p = 0;
          for (let i = 31; i >= 0; i--) {
            p ^= b & -((op >>> i) & 1);
            b = (b >>> 1) ^ (0xedb88320 & -(b & 1));
          }
          crc = (p ^ bodyCrc) >>> 0;
        }
      }
      let v = crc & 0x7fffffff;
      for (let i = 0; i < 10; i++) {
        buf[crcAt + 9 + i] = 48 + (v % 10);
        v = Math.floor(v / 10);
      }
    }
    pos += size;
  }
  return pos;
}
