/**
 * What the dispatcher needs of each appended record, kept in typed arrays instead of one object
 * per message (upstream's DispatchRequest). Every put used to leave such an object, with its key
 * strings, alive until its write completed, and with thousands of puts in flight the young-GC
 * copied them again and again; a ring of numbers costs nothing to the collector.
 *
 * Entries are numbered by absolute counters [head, tail); slot = n & mask. Index key hashes (with
 * the topic prefix already folded in, see dispatch-keys.ts) live in a second ring; entry n owns
 * keys [keyStart[n], keyStart[n] + keyCount[n]). Both grow by doubling when full. Single owner:
 * the CommitLog pushes (append) and pops (a failed write), the reput service shifts.
 */

const INITIAL = 1 << 14;

export class DispatchRing {
  head = 0;
  tail = 0;
  mask = INITIAL - 1;
  phy: Float64Array = new Float64Array(INITIAL);
  size: Int32Array = new Int32Array(INITIAL);
  queueId: Int32Array = new Int32Array(INITIAL);
  sysFlag: Int32Array = new Int32Array(INITIAL);
  tagsCode: Float64Array = new Float64Array(INITIAL);
  storeTs: Float64Array = new Float64Array(INITIAL);
  cqOffset: Float64Array = new Float64Array(INITIAL);
  keyStart: Float64Array = new Float64Array(INITIAL);
  keyCount: Int32Array = new Int32Array(INITIAL);
  topic: string[] = new Array<string>(INITIAL).fill('');
  keys: Int32Array = new Int32Array(INITIAL);
  keyMask = INITIAL - 1;
  keyHead = 0;
  keyTail = 0;

  get length(): number {
    return this.tail - this.head;
  }

  /** Adds an entry; its keys follow with pushKey. Returns the entry number. */
  push(
    topic: string,
    queueId: number,
    phy: number,
    size: number,
    tagsCode: number,
    storeTs: number,
    cqOffset: number,
    sysFlag: number,
  ): number {
    if (this.tail - this.head > this.mask) this.grow();
    const n = this.tail++;
    const i = n & this.mask;
    this.topic[i] = topic;
    this.queueId[i] = queueId;
    this.phy[i] = phy;
    this.size[i] = size;
    this.tagsCode[i] = tagsCode;
    this.storeTs[i] = storeTs;
    this.cqOffset[i] = cqOffset;
    this.sysFlag[i] = sysFlag;
    this.keyStart[i] = this.keyTail;
    this.keyCount[i] = 0;
    return n;
  }

  /** Adds an index key hash to the newest entry. */
  pushKey(hash: number): void {
    if (this.keyTail - this.keyHead > this.keyMask) this.growKeys();
    this.keys[this.keyTail++ & this.keyMask] = hash;
    this.keyCount[(this.tail - 1) & this.mask]!++;
  }

  /** Drops the oldest entry (dispatched). */
  shift(): void {
    const i = this.head++ & this.mask;
    this.keyHead = this.keyStart[i]! + this.keyCount[i]!;
  }

  /** Drops the newest entry (its write failed). */
  pop(): void {
    const i = --this.tail & this.mask;
    this.keyTail = this.keyStart[i]!;
  }

  clear(): void {
    this.head = this.tail = 0;
    this.keyHead = this.keyTail = 0;
  }

  private grow(): void {
    const oldMask = this.mask;
    const mask = (oldMask + 1) * 2 - 1;
    const f64 = (a: Float64Array): Float64Array => {
      const b = new Float64Array(mask + 1);
      for (let n = this.head; n < this.tail; n++) b[n & mask] = a[n & oldMask]!;
      return b;
    };
    const i32 = (a: Int32Array): Int32Array => {
      const b = new Int32Array(mask + 1);
      for (let n = this.head; n < this.tail; n++) b[n & mask] = a[n & oldMask]!;
      return b;
    };
    this.phy = f64(this.phy);
    this.size = i32(this.size);
    this.queueId = i32(this.queueId);
    this.sysFlag = i32(this.sysFlag);
    this.tagsCode = f64(this.tagsCode);
    this.storeTs = f64(this.storeTs);
    this.cqOffset = f64(this.cqOffset);
    this.keyStart = f64(this.keyStart);
    this.keyCount = i32(this.keyCount);
    const topic = new Array<string>(mask + 1).fill('');
    for (let n = this.head; n < this.tail; n++) topic[n & mask] = this.topic[n & oldMask]!;
    this.topic = topic;
    this.mask = mask;
  }

  private growKeys(): void {
    const oldMask = this.keyMask;
    const mask = (oldMask + 1) * 2 - 1;
    const keys = new Int32Array(mask + 1);
    for (let n = this.keyHead; n < this.keyTail; n++) keys[n & mask] = this.keys[n & oldMask]!;
    this.keys = keys;
    this.keyMask = mask;
  }
}
