/**
 * Sealing: filling in the two CRCs of records already encoded into a staging buffer, just before
 * they are written. The encoder leaves BODYCRC at 0 and the `__CRC32#` property's ten digits as
 * '0's (record-crc.ts); sealRecords walks the records of a range and writes both:
 *   BODYCRC  = crc32(body) & 0x7FFFFFFF
 *   __CRC32# = crc32(record bytes before the last 20) & 0x7FFFFFFF, digits least significant first
 * A body of 2 KiB or more is hashed once: the record CRC is crc32(head) combined with the body CRC
 * (zlib's crc32_combine, see crc32-combine.ts) then continued over the tail.
 *
 * CRC32 is most of the CPU a put costs, so sealing runs on a worker thread when the range is large
 * (crc-sealer.ts). The worker gets this very function as source text (Function#toString), which
 * is why it is self-contained: no imports, no helper functions, no closures; crc32 and the combine
 * tables are passed in. Keep it that way (a test runs it through the worker).
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
 * Seals the records in buf[from, to); `from` is a record start. Stops at the first position that
 * does not start a whole record inside the range and returns it (normally `to`). An end-of-file
 * filler (8 bytes staged) is stepped over.
 */
export function sealRecords(
  buf: Buffer,
  from: number,
  to: number,
  appendCrc: boolean,
  crc32: (data: Uint8Array, value?: number) => number,
  x2n: Uint32Array,
  ops: Map<number, number>,
): number {
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
      let crc: number;
      if (bodyLen >= 2048) {
        let op = ops.get(bodyLen);
        if (op === undefined) {
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
        const head = crc32(new Uint8Array(buf.buffer, base + pos, bodyStart - pos));
        // multmodp(op, head) ^ bodyCrc: the CRC of head || body.
        let b = head;
        let p = 0;
        for (let i = 31; i >= 0; i--) {
          p ^= b & -((op >>> i) & 1);
          b = (b >>> 1) ^ (0xedb88320 & -(b & 1));
        }
        crc = (p ^ bodyCrc) >>> 0;
        const bodyEnd = bodyStart + bodyLen;
        crc = crc32(new Uint8Array(buf.buffer, base + bodyEnd, crcAt - bodyEnd), crc);
      } else {
        crc = crc32(new Uint8Array(buf.buffer, base + pos, crcAt - pos));
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
