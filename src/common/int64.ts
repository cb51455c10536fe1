/**
 * 64-bit big-endian integers as JS numbers. Offsets and timestamps in RocketMQ never leave the safe
 * integer range (2^53 bytes is 8 PiB), and two 32-bit halves are several times faster than BigInt.
 */
const TWO_32 = 4294967296;

export function writeInt64(buf: Buffer, pos: number, value: number): void {
  const hi = Math.floor(value / TWO_32);
  buf.writeInt32BE(hi, pos);
  buf.writeUInt32BE(value - hi * TWO_32, pos + 4);
}

export function readInt64(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos) * TWO_32 + buf.readUInt32BE(pos + 4);
}

/** writeInt64 through a DataView (the put paths keep one over their buffers). */
export function setInt64(view: DataView, pos: number, value: number): void {
  // >>> 0 keeps the low word right for negatives too.
  view.setInt32(pos, Math.floor(value / TWO_32));
  view.setUint32(pos + 4, value >>> 0);
}

/** readInt64 through a DataView. */
export function getInt64(view: DataView, pos: number): number {
  return view.getInt32(pos) * TWO_32 + view.getUint32(pos + 4);
}
