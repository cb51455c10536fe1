/**
 * The AppendMessageResult of a put. The offsetMsgId strings are built only when read: most callers
 * (a broker answering SEND) read them once, benchmarks never, and hex-encoding costs more than the
 * rest of an append of a small message. A single message keeps no offsets array either.
 */
import type { AppendMessageResult } from './store-types.js';

const HEX = '0123456789ABCDEF';

function hex32(v: number): string {
  let s = '';
  for (let i = 28; i >= 0; i -= 4) s += HEX[(v >>> i) & 15];
  return s;
}

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
      const prefix = this.storeHost.toString('hex').toUpperCase();
      this.id = this.phyOffsets
        .map((o) => prefix + hex32(Math.floor(o / 4294967296)) + hex32(o >>> 0))
        .join(',');
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
