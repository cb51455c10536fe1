/**
 * Long polling: a PULL that finds nothing new is parked here instead of answered (the processor
 * returns no reply). It is answered again by re-running the pull with suspension disallowed when
 * (a) a message matching its filter is dispatched into its queue, (b) its hold time elapsed, as
 * checked by a periodic scan (every `checkIntervalMs`), or (c) at once, when the queue already
 * holds messages past its offset as it parks. Keys are `topic@queueId`.
 */
import type { Logger } from '../../common/logger.js';
import { Service } from '../../common/service.js';
import type { Channel } from '../../remoting/channel.js';
import type { RemotingCommand } from '../../remoting/remoting-command.js';
import type { MessageFilter } from '../../store/store-types.js';

export interface HeldPull {
  request: RemotingCommand;
  channel: Channel;
  /** Offset the consumer asked for: anything dispatched at or past it wakes the pull. */
  pullFromThisOffset: number;
  /** Date.now() after which the pull is answered whatever it finds. */
  deadline: number;
  filter: MessageFilter;
}

export class PullRequestHoldService extends Service {
  /**
   * Parked pulls by queue. A queue's entry and its array stay once created (queues are few) and
   * are emptied in place: a Map whose entries came and went with every pull rehashed into fresh
   * tables, and the dropped tables kept answered pulls alive through young-generation collections.
   */
  private readonly held = new Map<string, HeldPull[]>();
  private parked = 0;

  constructor(
    checkIntervalMs: number,
    private readonly maxOffset: (topic: string, queueId: number) => number,
    /** Re-runs a pull without suspension and writes its answer. */
    private readonly wake: (pull: HeldPull) => void,
    log: Logger,
  ) {
    super('pull-request-hold', checkIntervalMs, log);
  }

  static key(topic: string, queueId: number): string {
    return `${topic}@${queueId}`;
  }

  suspend(topic: string, queueId: number, pull: HeldPull): void {
    // The pull read the store before this turn; a message dispatched since (a send read from the
    // same socket chunk is stored while the pull awaits its read) found nobody parked to wake, and
    // the pull would wait for the next scan (measured: 0.65 s for a message at 5,000/s).
    if (this.maxOffset(topic, queueId) > pull.pullFromThisOffset) {
      this.wake(pull);
      return;
    }
    const key = PullRequestHoldService.key(topic, queueId);
    let list = this.held.get(key);
    if (!list) {
      list = [];
      this.held.set(key, list);
    }
    list.push(pull);
    this.parked++;
  }

  /** Number of parked pulls (inspection, tests). */
  get size(): number {
    return this.parked;
  }

  /**
   * New units landed in a queue: wake the pulls waiting for them whose filter accepts `tagsCode`
   * (undefined: wake all that are behind, as a scan does).
   */
  notifyMessageArriving(topic: string, queueId: number, maxOffset: number, tagsCode?: number): void {
    // Called for every dispatched message: nothing parked is the common case, answer it cheaply.
    if (this.parked === 0) return;
    const list = this.held.get(PullRequestHoldService.key(topic, queueId));
    if (!list || list.length === 0) return;
    const now = Date.now();
    // Woken pulls may park again (into this same list) while being answered: take them out first.
    const ready: HeldPull[] = [];
    let kept = 0;
    for (let i = 0; i < list.length; i++) {
      const pull = list[i]!;
      if (pull.channel.isClosed) continue;
      const arrived =
        maxOffset > pull.pullFromThisOffset &&
        (tagsCode === undefined || pull.filter.isMatchedByConsumeQueue(tagsCode));
      if (arrived || now >= pull.deadline) ready.push(pull);
      else list[kept++] = pull;
    }
    this.parked -= list.length - kept;
    list.length = kept;
    for (const pull of ready) this.wake(pull);
  }

  protected onRun(): void {
    for (const [key, list] of [...this.held]) {
      // Queues nobody waits on any more (deleted topics, gone consumers) leave here, once a scan.
      if (list.length === 0) {
        this.held.delete(key);
        continue;
      }
      const at = key.lastIndexOf('@');
      const topic = key.slice(0, at);
      const queueId = Number(key.slice(at + 1));
      this.notifyMessageArriving(topic, queueId, this.maxOffset(topic, queueId));
    }
  }

  /** Answers every parked pull now (shutdown). */
  wakeAll(): void {
    const all = [...this.held.values()].flat();
    this.held.clear();
    this.parked = 0;
    for (const pull of all) if (!pull.channel.isClosed) this.wake(pull);
  }
}
