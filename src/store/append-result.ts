/**
 * The AppendMessageResult of a put. The offsetMsgId strings are built only when read: most callers
 * (a broker answering SEND) read them once, benchmarks never, and hex-encoding costs more than the
 * rest of an append of a small message. A single message keeps no offsets array either.
 */
import type { AppendMessageResult } from './store-types.js';

/** ASCII codes of the upper-case hex digits. */
const HEX = Buffer.from('0123456789ABCDEF', 'latin1');

export class AppendResult implements AppendMessageResult {
  private id: string | undefined;

  constructor(
    private readonly storeHost: Buffer,
    readonly wroteOffset: number,
    readonly wroteBytes: number,
    readonly logicsOffset: number,
    readonly storeTimestamp: number,
    readonly msgNum: number,
    /** Physical offset of every message of a batch; undefined for a single message. */
    private readonly offsets?: number[],
  ) {}

  get msgId(): string {
    if (this.id === undefined) {
      // Written as ASCII into one buffer, one string at the end: a batch of 128 used to build
      // 128 ids out of ~20 string pieces each, then join them.
      const offsets = this.phyOffsets;
      const host = this.storeHost;
      const len = host.length * 2 + 16;
      const out = Buffer.allocUnsafe(offsets.length * (len + 1));
      let p = 0;
      for (let k = 0; k < offsets.length; k++) {
        if (k > 0) out[p++] = 44; // ','
        for (let i = 0; i < host.length; i++) {
          out[p++] = HEX[host[i]! >>> 4]!;
          out[p++] = HEX[host[i]! & 15]!;
        }
        const o = offsets[k]!;
        const hi = Math.floor(o / 4294967296);
        const lo = o >>> 0;
        for (let i = 28; i >= 0; i -= 4) out[p++] = HEX[(hi >>> i) & 15]!;
        for (let i = 28; i >= 0; i -= 4) out[p++] = HEX[(lo >>> i) & 15]!;
      }
      this.id = out.toString('latin1', 0, p);
    }
    return this.id;
  }

  /** Physical offsets of every message (a batch has several). */
  get phyOffsets(): readonly number[] {
    return this.offsets ?? [this.wroteOffset];
  }

  toJSON(): AppendMessageResult {
    return {
      wroteOffset: this.wroteOffset,
      wroteBytes: this.wroteBytes,
      msgId: this.msgId,
      storeTimestamp: this.storeTimestamp,
      logicsOffset: this.logicsOffset,
      msgNum: this.msgNum,
    };
  }
}
