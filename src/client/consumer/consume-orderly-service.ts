/**
 * Runs an orderly listener (upstream's ConsumeMessageOrderlyService): each queue's messages reach
 * the listener in queue order, one batch of consumeMessageBatchMaxSize at a time, and the next
 * batch of a queue only after the previous one was answered. At most consumeThreadMax queues are
 * consumed at once; a queue that kept the listener busy for a minute goes to the back of the line.
 *
 * In CLUSTERING mode a queue is only consumed while this consumer holds its broker lock
 * (LOCK_BATCH_MQ, taken by the rebalance before the queue is pulled, renewed here every 20 s and
 * treated as lost after 30 s without renewal); without it, the queue waits and the lock is asked
 * for again.
 *
 * SUCCESS commits the offset after the batch. SUSPEND_CURRENT_QUEUE_A_MOMENT (or a throw) puts
 * the batch back and consumes it again after suspendCurrentQueueTimeMillis with reconsumeTimes
 * + 1; a message already retried maxReconsumeTimes times is sent to the dead-letter queue instead
 * (the host's sendMessageBack with a negative level), so one bad message cannot hold a queue
 * forever. Only when that fails too is it retried once more.
 *
 * Per queue the work is a small state machine: ready (waiting for a slot) -> running -> either
 * idle (state removed), or waiting (a timer: suspend, lock retry, time slice) -> ready. Pulls
 * submitted while the queue is ready, running or waiting add nothing: the loop takes whatever the
 * ProcessQueue holds when it gets there.
 */
import type { Logger } from '../../common/logger.js';
import { errorMessage } from '../../common/errors.js';
import type { MessageExt } from '../message/message-ext.js';
import { mqKey, type MessageQueue } from '../message/message-queue.js';
import { PeriodicTask } from '../../common/periodic-task.js';
import type { ProcessQueue } from './process-queue.js';
import { REBALANCE_LOCK_INTERVAL_MS } from './process-queue.js';
import {
  prepareForListener,
  type ConsumeMessageService,
  type ConsumeServiceHost,
} from './consume-message-service.js';

export const ConsumeOrderlyStatus = {
  SUCCESS: 'SUCCESS',
  SUSPEND_CURRENT_QUEUE_A_MOMENT: 'SUSPEND_CURRENT_QUEUE_A_MOMENT',
} as const;
export type ConsumeOrderlyStatus = (typeof ConsumeOrderlyStatus)[keyof typeof ConsumeOrderlyStatus];

export interface ConsumeOrderlyContext {
  readonly messageQueue: MessageQueue;
  /** With SUSPEND_CURRENT_QUEUE_A_MOMENT: wait this long before the retry, ms (-1 = the consumer's setting). */
  suspendCurrentQueueTimeMillis: number;
}

export type MessageListenerOrderly = (
  msgs: MessageExt[],
  context: ConsumeOrderlyContext,
) => ConsumeOrderlyStatus | Promise<ConsumeOrderlyStatus>;

/** What the orderly service needs beyond a concurrent one: the queue locks. */
export interface OrderlyServiceHost extends ConsumeServiceHost {
  /** LOCK_BATCH_MQ for one queue; marks its ProcessQueue locked. */
  lockQueue(mq: MessageQueue): Promise<boolean>;
  /** Renews the locks of every queue this consumer holds. */
  lockAll(): Promise<void>;
}

export interface ConsumeOrderlyOptions {
  consumeThreadMax: number;
  consumeMessageBatchMaxSize: number;
  suspendCurrentQueueTimeMillis: number;
  maxReconsumeTimes: number;
}

/** A queue keeps the listener at most this long before other queues get a turn. */
export const MAX_TIME_CONSUME_CONTINUOUSLY_MS = 60_000;
const MIN_DELAY_MS = 10;
const MAX_DELAY_MS = 30_000;
const LOCK_RETRY_MS = 100;
const LOCK_FAILED_DELAY_MS = 3000;

interface QueueState {
  readonly key: string;
  mq: MessageQueue;
  /** The queue's current ProcessQueue (a new one replaces a dropped one). */
  pq: ProcessQueue;
  /** A consume loop is in progress ... */
  looping: boolean;
  /** ... and this is it. */
  running: Promise<void> | undefined;
}

/** How a consume loop ended: nothing to do now, or come back after a delay (or a lock attempt). */
type After = { kind: 'idle' } | { kind: 'later'; delayMs: number } | { kind: 'relock' };

export class ConsumeMessageOrderlyService implements ConsumeMessageService {
  private readonly queues = new Map<string, QueueState>();
  private ready: QueueState[] = [];
  private active = 0;
  private stopped = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly lockTask: PeriodicTask | undefined;

  constructor(
    private readonly host: OrderlyServiceHost,
    private readonly listener: MessageListenerOrderly,
    private readonly options: ConsumeOrderlyOptions,
    private readonly log: Logger,
  ) {
    if (host.messageModel === 'CLUSTERING') {
      this.lockTask = new PeriodicTask('lock-mq', REBALANCE_LOCK_INTERVAL_MS, log, () => host.lockAll());
    }
  }

  private get clustering(): boolean {
    return this.host.messageModel === 'CLUSTERING';
  }

  start(): void {
    this.lockTask?.start(1000);
  }

  submit(_msgs: MessageExt[], pq: ProcessQueue, mq: MessageQueue): void {
    if (this.stopped || pq.dropped) return;
    const key = mqKey(mq);
    const s = this.queues.get(key);
    if (s) {
      // Ready, running or waiting: the loop takes the new messages when it gets there.
      s.pq = pq;
      s.mq = mq;
      return;
    }
    const state: QueueState = { key, mq, pq, looping: false, running: undefined };
    this.queues.set(key, state);
    this.ready.push(state);
    this.pump();
  }

  /** A listener call (or its send-backs) is in progress for the queue. */
  isConsuming(mq: MessageQueue): boolean {
    return this.queues.get(mqKey(mq))?.looping ?? false;
  }

  /**
   * Waits until no listener call is in progress for the queue (its ProcessQueue must already be
   * dropped, so none starts afterwards); false if that took longer than `timeoutMs`.
   */
  async waitIdle(mq: MessageQueue, timeoutMs: number): Promise<boolean> {
    const running = this.queues.get(mqKey(mq))?.running;
    if (!running) return true;
    let timer: NodeJS.Timeout | undefined;
    const idle = await Promise.race([
      running.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    return idle;
  }

  private pump(): void {
    while (!this.stopped && this.active < this.options.consumeThreadMax && this.ready.length > 0) {
      const s = this.ready.shift()!;
      if (this.queues.get(s.key) !== s || s.looping) continue;
      this.active++;
      const p = this.run(s);
      // run() may have finished synchronously (nothing to take); only a live loop is remembered.
      if (s.looping) s.running = p;
    }
  }

  /** Consumes the queue batch after batch until it is empty, suspended, unlocked or dropped. */
  private async run(s: QueueState): Promise<void> {
    s.looping = true;
    const begin = Date.now();
    let after: After = { kind: 'idle' };
    try {
      for (;;) {
        const pq = s.pq;
        if (this.stopped || pq.dropped) return;
        if (this.clustering && (!pq.locked || pq.isLockExpired())) {
          this.log.debug({ mq: s.mq }, 'the queue is not locked (or the lock expired); consuming later');
          after = { kind: 'relock' };
          return;
        }
        if (Date.now() - begin > MAX_TIME_CONSUME_CONTINUOUSLY_MS) {
          after = { kind: 'later', delayMs: MIN_DELAY_MS };
          return;
        }
        const msgs = pq.takeMessages(this.options.consumeMessageBatchMaxSize);
        if (msgs.length === 0) return;
        const suspendMs = await this.consumeBatch(s, pq, msgs);
        if (suspendMs !== undefined) {
          after = { kind: 'later', delayMs: suspendMs };
          return;
        }
      }
    } catch (err) {
      this.log.error({ mq: s.mq, err: errorMessage(err) }, 'orderly consume loop failed');
      after = { kind: 'later', delayMs: this.options.suspendCurrentQueueTimeMillis };
    } finally {
      // Synchronous with the loop's last decision: a submit after this sees the state as it is.
      s.looping = false;
      s.running = undefined;
      this.active--;
      this.finish(s, after);
      this.pump();
    }
  }

  /** One listener call and what follows from its answer; a delay means "suspended". */
  private async consumeBatch(
    s: QueueState,
    pq: ProcessQueue,
    msgs: MessageExt[],
  ): Promise<number | undefined> {
    prepareForListener(msgs, this.host);
    const context: ConsumeOrderlyContext = { messageQueue: s.mq, suspendCurrentQueueTimeMillis: -1 };
    let status: ConsumeOrderlyStatus;
    try {
      status = await this.listener(msgs, context);
    } catch (err) {
      this.log.warn(
        { mq: s.mq, err: errorMessage(err) },
        'consumeMessage threw; the messages will be consumed again after a pause',
      );
      status = ConsumeOrderlyStatus.SUSPEND_CURRENT_QUEUE_A_MOMENT;
    }
    if (status !== ConsumeOrderlyStatus.SUCCESS) {
      if (status !== ConsumeOrderlyStatus.SUSPEND_CURRENT_QUEUE_A_MOMENT) {
        this.log.warn(
          { mq: s.mq, status },
          'consumeMessage returned neither SUCCESS nor SUSPEND_CURRENT_QUEUE_A_MOMENT',
        );
      }
      const suspended = await this.retryOrDeadLetter(s, pq, msgs);
      if (suspended) {
        const ms = context.suspendCurrentQueueTimeMillis;
        return ms >= 0 ? ms : this.options.suspendCurrentQueueTimeMillis;
      }
      return undefined;
    }
    this.commit(s, pq, msgs);
    return undefined;
  }

  /**
   * After SUSPEND: messages retried maxReconsumeTimes times go to the dead-letter queue (and count
   * as consumed); the others go back with reconsumeTimes + 1. True if any went back.
   */
  private async retryOrDeadLetter(s: QueueState, pq: ProcessQueue, msgs: MessageExt[]): Promise<boolean> {
    const again: MessageExt[] = [];
    const deadLettered: MessageExt[] = [];
    for (const m of msgs) {
      if (m.reconsumeTimes >= this.options.maxReconsumeTimes) {
        if (await this.host.sendMessageBack(m, -1)) {
          this.log.warn(
            { mq: s.mq, msgId: m.msgId, reconsumeTimes: m.reconsumeTimes },
            'message retried maxReconsumeTimes times; sent to the dead-letter queue',
          );
          deadLettered.push(m);
          continue;
        }
      }
      m.reconsumeTimes++;
      again.push(m);
    }
    if (again.length > 0) {
      pq.makeMessagesToConsumeAgain(again);
      // Dead-lettered messages are finished; the offset cannot pass the ones going back.
      if (deadLettered.length > 0) this.commit(s, pq, deadLettered);
      return true;
    }
    this.commit(s, pq, deadLettered);
    return false;
  }

  private commit(s: QueueState, pq: ProcessQueue, msgs: readonly MessageExt[]): void {
    const offset = pq.removeMessages(msgs);
    // A dropped queue still commits the batch it was consuming: the rebalance waits for it before
    // handing the offset over. A queue replaced by a newer ProcessQueue does not.
    if (offset >= 0 && s.pq === pq) this.host.offsetStore.updateOffset(s.mq, offset, false);
  }

  private finish(s: QueueState, after: After): void {
    if (this.queues.get(s.key) !== s) return;
    if (this.stopped || after.kind === 'idle' || s.pq.dropped) {
      this.queues.delete(s.key);
      return;
    }
    if (after.kind === 'later') {
      this.readyLater(s, after.delayMs);
      return;
    }
    this.later(LOCK_RETRY_MS, () => {
      this.host.lockQueue(s.mq).then(
        (ok) => this.readyLater(s, ok ? MIN_DELAY_MS : LOCK_FAILED_DELAY_MS),
        () => this.readyLater(s, LOCK_FAILED_DELAY_MS),
      );
    });
  }

  /** The queue goes back into the line after `delayMs` (clamped to 10 ms .. 30 s). */
  private readyLater(s: QueueState, delayMs: number): void {
    const ms = Math.min(MAX_DELAY_MS, Math.max(MIN_DELAY_MS, delayMs));
    this.later(ms, () => {
      if (this.queues.get(s.key) !== s) return;
      if (s.pq.dropped) {
        this.queues.delete(s.key);
        return;
      }
      this.ready.push(s);
      this.pump();
    });
  }

  private later(ms: number, fn: () => void): void {
    if (this.stopped) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.stopped) fn();
    }, ms);
    this.timers.add(t);
  }

  /** Stops taking work and renewing locks; waits up to `awaitMs` for listener calls in progress. */
  async shutdown(awaitMs: number): Promise<void> {
    this.stopped = true;
    await this.lockTask?.stop();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.ready = [];
    const running = [...this.queues.values()].flatMap((s) => (s.running ? [s.running] : []));
    if (awaitMs <= 0 || running.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(running),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, awaitMs);
      }),
    ]);
    clearTimeout(timer);
  }
}
