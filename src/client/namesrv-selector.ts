/**
 * Which NameServer to ask: one chosen at random at start and kept while it answers (as upstream's
 * namesrvAddrChoosed); a transport failure moves to the next one in the list, so every call is
 * tried on each NameServer at most once before it fails.
 */
import { randomInt } from 'node:crypto';

export class NamesrvSelector {
  private index: number;

  constructor(private addrs: string[]) {
    this.index = addrs.length > 0 ? randomInt(0, addrs.length) : 0;
  }

  get all(): readonly string[] {
    return this.addrs;
  }

  /** The NameServers in the order to try them: the chosen one first. */
  order(): string[] {
    const n = this.addrs.length;
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(this.addrs[(this.index + i) % n]!);
    return out;
  }

  /** `addr` failed: move the choice past it (unless another call already did). */
  markFailed(addr: string): void {
    if (this.addrs[this.index] === addr) this.index = (this.index + 1) % this.addrs.length;
  }

  update(addrs: string[]): void {
    if (addrs.join(';') === this.addrs.join(';')) return;
    this.addrs = addrs;
    this.index = addrs.length > 0 ? randomInt(0, addrs.length) : 0;
  }
}
