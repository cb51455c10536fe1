/**
 * Requests waiting for their response, by opaque. Timeouts use no per-call timer: calls are kept
 * in buckets by timeout length, where insertion order is deadline order, and one timer is armed
 * for the earliest deadline. Expiring a call is O(1) and a response is O(1).
 * A call completes through a callback (`addCallback`, no promise on hot paths) or a promise (`add`).
 */
import { RmqError, ErrorCode } from '../common/errors.js';
import type { RemotingCommand } from './remoting-command.js';
import { requestCodeName } from '../protocol/request-code.js';

/** Completion of a call: exactly one of error or response. */
export type ResponseCallback = (err: Error | undefined, response: RemotingCommand | undefined) => void;

interface Pending {
  opaque: number;
  deadline: number;
  done: ResponseCallback;
  /** Owner tag (a channel id) so a closed connection fails only its own calls. */
  owner: number;
  code: number;
  peer: string;
  bucket: Map<number, Pending>;
}

function describe(p: Pending): string {
  return `${requestCodeName(p.code)} (opaque ${p.opaque}) to ${p.peer}`;
}

export class ResponseTable {
  private readonly byOpaque = new Map<number, Pending>();
  private readonly buckets = new Map<number, Map<number, Pending>>();
  private timer: NodeJS.Timeout | undefined;
  private timerDeadline = Infinity;

  get size(): number {
    return this.byOpaque.size;
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
    let bucket = this.buckets.get(timeoutMs);
    if (!bucket) {
      bucket = new Map();
      this.buckets.set(timeoutMs, bucket);
    }
    const deadline = Date.now() + timeoutMs;
    const p: Pending = { opaque, deadline, done, owner, code, peer, bucket };
    this.byOpaque.set(opaque, p);
    bucket.set(opaque, p);
    if (deadline < this.timerDeadline) this.arm(deadline);
  }

  /** Delivers a response; false when nobody waits for it (late or unknown opaque). */
  complete(cmd: RemotingCommand): boolean {
    const p = this.byOpaque.get(cmd.opaque);
    if (!p) return false;
    this.remove(p);
    p.done(undefined, cmd);
    return true;
  }

  /** Fails one call (e.g. its write failed). */
  fail(opaque: number, err: Error): void {
    const p = this.byOpaque.get(opaque);
    if (!p) return;
    this.remove(p);
    p.done(err, undefined);
  }

  /** Fails every call of one owner (its connection closed). */
  failOwner(owner: number, makeError: (describe: string) => Error): void {
    for (const p of [...this.byOpaque.values()]) {
      if (p.owner !== owner) continue;
      this.remove(p);
      p.done(makeError(describe(p)), undefined);
    }
  }

  failAll(makeError: (describe: string) => Error): void {
    for (const p of [...this.byOpaque.values()]) {
      this.remove(p);
      p.done(makeError(describe(p)), undefined);
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDeadline = Infinity;
  }

  private remove(p: Pending): void {
    this.byOpaque.delete(p.opaque);
    p.bucket.delete(p.opaque);
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
    for (const [timeoutMs, bucket] of this.buckets) {
      for (const p of bucket.values()) {
        if (p.deadline > now) {
          if (p.deadline < next) next = p.deadline;
          break;
        }
        this.remove(p);
        p.done(
          new RmqError(ErrorCode.REMOTING_TIMEOUT, `${describe(p)}: no response within ${timeoutMs} ms`, {
            retriable: true,
          }),
          undefined,
        );
      }
      if (bucket.size === 0) this.buckets.delete(timeoutMs);
    }
    if (next !== Infinity) this.arm(next);
  }
}
