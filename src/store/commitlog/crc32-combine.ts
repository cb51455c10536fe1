/**
 * crc32_combine (zlib's): the CRC32 of A||B from crc32(A), crc32(B) and the length of B, without
 * touching the bytes again. The encoder uses it so a large body is hashed once for both CRCs a
 * record carries (the body CRC of upstream's format and the whole-record `__CRC32#`): the record
 * CRC becomes crc32(head) -> combine(body CRC) -> crc32(tail), three cheap steps instead of a second
 * pass over the body. node:zlib's crc32 has no combine, hence this port of zlib's multmodp/x2nmodp.
 * CRCs here are the plain unsigned values zlib returns (sign bit not yet cleared).
 */

const POLY = 0xedb88320;

/** a(x) * b(x) modulo the CRC polynomial, reflected bit order (zlib multmodp), branch-free. */
function multmodp(a: number, b: number): number {
  let p = 0;
  for (let i = 31; i >= 0; i--) {
    p ^= b & -((a >>> i) & 1);
    b = (b >>> 1) ^ (POLY & -(b & 1));
  }
  return p >>> 0;
}

/** x^(2^k) mod p for k = 0..31. */
const X2N = new Uint32Array(32);
X2N[0] = 0x40000000;
for (let k = 1; k < 32; k++) X2N[k] = multmodp(X2N[k - 1]!, X2N[k - 1]!);

/** x^(8 * len) mod p: the operator that shifts a CRC over `len` zero bytes. */
function shiftOperator(len: number): number {
  let p = 0x80000000;
  let k = 3;
  let n = len;
  while (n > 0) {
    if (n & 1) p = multmodp(X2N[k & 31]!, p);
    n = Math.floor(n / 2);
    k++;
  }
  return p;
}

// Bodies of one size recur (producers send similar messages): keep the operator per length.
const operators = new Map<number, number>();
let lastLen = -1;
let lastOp = 0;

/** CRC32 of A||B given crc1 = crc32(A), crc2 = crc32(B) and len2 = |B|. */
export function crc32Combine(crc1: number, crc2: number, len2: number): number {
  if (len2 !== lastLen) {
    let op = operators.get(len2);
    if (op === undefined) {
      op = shiftOperator(len2);
      if (operators.size >= 4096) operators.clear();
      operators.set(len2, op);
    }
    lastLen = len2;
    lastOp = op;
  }
  return (multmodp(lastOp, crc1) ^ crc2) >>> 0;
}
