/**
 * Requests waiting for their response, by opaque. Timeouts use no per-call timer: calls are kept
 * in one FIFO per timeout length, where insertion order is deadline order, and one timer is armed
 * for the earliest deadline. Expiring a call is O(1) and a response is O(1).
 * A call completes through a callback (`addCallback`, no promise on hot paths) or a promise (`add`).
 *
 * No Map on the per-call path. Opaques are sequential, so a call sits in slot `opaque & mask` of
 * an array (a Map is kept only for the rare opaque whose slot is taken), and each FIFO is a ring.
 * Both are long-lived arrays whose slots are cleared when a call completes. A Map with calls
 * coming and going rehashed into a fresh table every few dozen calls; the tables it dropped lived
 * on in the old generation until the next full collection, still pointing at calls long done, so
 * every young-generation collection kept those calls (their messages, jobs, closures) alive too:
 * a producer at 5,000 sends/s copied ~1.7 MB per scavenge and paused 4-7 ms for it.
 */
import { RmqError, ErrorCode } from '../common/errors.js';
import type { RemotingCommand } from './remoting-command.js';
import { requestCodeName } from '../protocol/request-code.js';

/** Completion of a call: exactly one of error or response. */
export type ResponseCallback = (err: Error | undefined, response: RemotingCommand | undefined) => void;

export interface Pending {
  opaque: number;
  deadline: number;
  done: ResponseCallback;
  /** Owner tag (a channel id) so a closed connection fails only its own calls. */
  owner: number;
  code: number;
  peer: string;
  queue: TimeoutQueue;
  /** Position in `queue` (monotonic; slot = position & mask). */
  pos: number;
}

function describe(p: Pending): string {
  return `${requestCodeName(p.code)} (opaque ${p.opaque}) to ${p.peer}`;
}

/** Calls of one timeout length, oldest first; completed calls leave holes the head skips. Exported for tests. */
export class TimeoutQueue {
  ring: (Pending | undefined)[] = new Array<Pending | undefined>(64).fill(undefined);
  mask = 63;
  head = 0;
  tail = 0;

  constructor(readonly timeoutMs: number) {}

  push(p: Pending): void {
    this.skipHoles();
    if (this.tail - this.head > this.mask) this.grow();
    p.pos = this.tail++;
    this.ring[p.pos & this.mask] = p;
  }

  clear(p: Pending): void {
    const i = p.pos & this.mask;
    if (this.ring[i] === p) this.ring[i] = undefined;
  }

  /** The oldest call still waiting (holes at the head skipped). */
  first(): Pending | undefined {
    this.skipHoles();
    return this.head < this.tail ? this.ring[this.head & this.mask] : undefined;
  }

  private skipHoles(): void {
    while (this.head < this.tail && this.ring[this.head & this.mask] === undefined) this.head++;
  }

  /**
   * Full ring: its waiting calls move, in order and renumbered, to a ring twice their number (at
   * least as large as this one), dropping the holes. A long call at the head (a held pull) while
   * short ones come and go behind it leaves mostly holes, so the ring stays as big as what waits.
   */
  private grow(): void {
    let live = 0;
    for (let n = this.head; n < this.tail; n++) if (this.ring[n & this.mask] !== undefined) live++;
    let size = this.mask + 1;
    while (size < live * 2) size *= 2;
    const ring = new Array<Pending | undefined>(size).fill(undefined);
    let pos = 0;
    for (let n = this.head; n < this.tail; n++) {
      const p = this.ring[n & this.mask];
      if (p === undefined) continue;
      p.pos = pos;
      ring[pos++] = p;
    }
    this.ring = ring;
    this.mask = size - 1;
    this.head = 0;
    this.tail = pos;
  }
}

const SLOTS = 4096;

export class ResponseTable {
  private readonly slots: (Pending | undefined)[] = new Array<Pending | undefined>(SLOTS).fill(undefined);
  /** Calls whose slot was taken when they were added (more than SLOTS calls apart in flight). */
  private readonly overflow = new Map<number, Pending>();
  /** By timeout length; a queue left empty is dropped by the next expiry pass (retries use many lengths). */
  private readonly queues = new Map<number, TimeoutQueue>();
  private count = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerDeadline = Infinity;

  get size(): number {
    return this.count;
  }

  /** Timeout lengths with a queue (inspection, tests). */
  get timeoutQueues(): number {
    return this.queues.size;
  }

  /** Registers a call; the promise settles with the response, a timeout or a failure. */
  add(
    opaque: number,
    timeoutMs: number,
    owner: number,
    code: number,
    peer: string,
  ): Promise<RemotingCommand> {
    return new Promise<RemotingCommand>((resolve, reject) => {
      this.addCallback(opaque, timeoutMs, owner, code, peer, (err, response) => {
        if (err) reject(err);
        else resolve(response!);
      });
    });
  }

  /** Registers a call completed through `done`, called exactly once (synchronously by `fail`). */
  addCallback(
    opaque: number,
    timeoutMs: number,
    owner: number,
    code: number,
    peer: string,
    done: ResponseCallback,
  ): void {
    const queue = this.queueFor(timeoutMs);
    const deadline = Date.now() + timeoutMs;
    const p: Pending = { opaque, deadline, done, owner, code, peer, queue, pos: 0 };
    const i = opaque & (SLOTS - 1);
    if (this.slots[i] === undefined) this.slots[i] = p;
    else this.overflow.set(opaque, p);
    queue.push(p);
    this.count++;
    if (deadline < this.timerDeadline) this.arm(deadline);
  }

  private queueFor(timeoutMs: number): TimeoutQueue {
    let q = this.queues.get(timeoutMs);
    if (!q) {
      q = new TimeoutQueue(timeoutMs);
      this.queues.set(timeoutMs, q);
    }
    return q;
  }

  private find(opaque: number): Pending | undefined {
    const p = this.slots[opaque & (SLOTS - 1)];
    if (p !== undefined && p.opaque === opaque) return p;
    return this.overflow.size > 0 ? this.overflow.get(opaque) : undefined;
  }

  /** Delivers a response; false when nobody waits for it (late or unknown opaque). */
  complete(cmd: RemotingCommand): boolean {
    const p = this.find(cmd.opaque);
    if (!p) return false;
    this.remove(p);
    p.done(undefined, cmd);
    return true;
  }

  /** Fails one call (e.g. its write failed). */
  fail(opaque: number, err: Error): void {
    const p = this.find(opaque);
    if (!p) return;
    this.remove(p);
    p.done(err, undefined);
  }

  private all(): Pending[] {
    const out: Pending[] = [];
    for (const p of this.slots) if (p !== undefined) out.push(p);
    for (const p of this.overflow.values()) out.push(p);
    return out;
  }

  /** Fails every call of one owner (its connection closed). */
  failOwner(owner: number, makeError: (describe: string) => Error): void {
    for (const p of this.all()) {
      if (p.owner !== owner) continue;
      this.remove(p);
      p.done(makeError(describe(p)), undefined);
    }
  }

  failAll(makeError: (describe: string) => Error): void {
    for (const p of this.all()) {
      this.remove(p);
      p.done(makeError(describe(p)), undefined);
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDeadline = Infinity;
  }

  private remove(p: Pending): void {
    const i = p.opaque & (SLOTS - 1);
    if (this.slots[i] === p) this.slots[i] = undefined;
    else this.overflow.delete(p.opaque);
    p.queue.clear(p);
    this.count--;
  }

  private arm(deadline: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timerDeadline = deadline;
    this.timer = setTimeout(() => this.expire(), Math.max(0, deadline - Date.now()));
    this.timer.unref();
  }

  private expire(): void {
    this.timer = undefined;
    this.timerDeadline = Infinity;
    const now = Date.now();
    let next = Infinity;
    for (const [timeoutMs, q] of this.queues) {
      for (let p = q.first(); p !== undefined; p = q.first()) {
        if (p.deadline > now) {
          if (p.deadline < next) next = p.deadline;
          break;
        }
        this.remove(p);
        p.done(
          new RmqError(ErrorCode.REMOTING_TIMEOUT, `${describe(p)}: no response within ${q.timeoutMs} ms`, {
            retriable: true,
          }),
          undefined,
        );
      }
      if (q.first() === undefined) this.queues.delete(timeoutMs);
    }
    if (next !== Infinity) this.arm(next);
  }
}
