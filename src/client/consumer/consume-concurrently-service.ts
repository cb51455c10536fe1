/**
 * Runs a concurrent listener over pulled messages (upstream's ConsumeMessageConcurrentlyService):
 * messages are cut into batches of consumeMessageBatchMaxSize, at most consumeThreadMax listener
 * calls run at once (the rest wait in FIFO order), and when a call returns its messages are
 * finished in the ProcessQueue, which tells which offset may now be committed. Nothing is
 * acknowledged before its listener returned.
 *
 * RECONSUME_LATER (or a throw) in CLUSTERING mode hands the failed messages back (the host's
 * sendMessageBack: CONSUMER_SEND_MSG_BACK, which retries them via %RETRY%<group>, else a copy
 * sent to %RETRY%<group> by the client's inner producer); those neither would take are consumed
 * again here after localRetryDelayMs with reconsumeTimes + 1 and keep holding the queue's
 * offset. In BROADCASTING mode failures are logged and dropped, as upstream.
 */
import type { Logger } from '../../common/logger.js';
import { errorMessage } from '../../common/errors.js';
import type { MessageExt } from '../message/message-ext.js';
import type { MessageQueue } from '../message/message-queue.js';
import type { ProcessQueue } from './process-queue.js';
import {
  prepareForListener,
  type ConsumeMessageService,
  type ConsumeServiceHost,
} from './consume-message-service.js';

export { resetRetryTopic, type ConsumeServiceHost } from './consume-message-service.js';

export const ConsumeConcurrentlyStatus = {
  CONSUME_SUCCESS: 'CONSUME_SUCCESS',
  RECONSUME_LATER: 'RECONSUME_LATER',
} as const;
export type ConsumeConcurrentlyStatus =
  (typeof ConsumeConcurrentlyStatus)[keyof typeof ConsumeConcurrentlyStatus];

export interface ConsumeConcurrentlyContext {
  readonly messageQueue: MessageQueue;
  /** With RECONSUME_LATER: 0 = the broker's schedule (3 + reconsumeTimes), -1 = dead-letter now, n = level n. */
  delayLevelWhenNextConsume: number;
  /** With CONSUME_SUCCESS on a batch: messages after this index are treated as RECONSUME_LATER. */
  ackIndex: number;
  /** Which of the consumeThreadMax concurrent calls this is, 1-based (what Java shows as a thread name). */
  readonly slot: number;
}

export type MessageListenerConcurrently = (
  msgs: MessageExt[],
  context: ConsumeConcurrentlyContext,
) => ConsumeConcurrentlyStatus | Promise<ConsumeConcurrentlyStatus>;

interface Task {
  msgs: MessageExt[];
  pq: ProcessQueue;
  mq: MessageQueue;
}

export interface ConsumeServiceOptions {
  consumeThreadMax: number;
  consumeMessageBatchMaxSize: number;
  localRetryDelayMs: number;
}

export class ConsumeMessageConcurrentlyService implements ConsumeMessageService {
  /** Tasks waiting, from `head` on; slots before it are cleared (a taken task is not kept). */
  private queue: (Task | undefined)[] = [];
  private head = 0;
  private inflight = 0;
  private readonly freeSlots: number[];
  /** Listener calls that returned a promise, by slot (a Set with one entry per call churned). */
  private readonly running: (Promise<void> | undefined)[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly host: ConsumeServiceHost,
    private readonly listener: MessageListenerConcurrently,
    private readonly options: ConsumeServiceOptions,
    private readonly log: Logger,
  ) {
    this.freeSlots = Array.from({ length: options.consumeThreadMax }, (_, i) => options.consumeThreadMax - i);
  }

  start(): void {}

  /** Listener calls running or waiting. */
  get backlog(): number {
    return this.inflight + this.queue.length - this.head;
  }

  submit(msgs: MessageExt[], pq: ProcessQueue, mq: MessageQueue): void {
    if (this.stopped) return;
    const n = this.options.consumeMessageBatchMaxSize;
    for (let i = 0; i < msgs.length; i += n) this.queue.push({ msgs: msgs.slice(i, i + n), pq, mq });
    this.pump();
  }

  private pump(): void {
    // A listener that answers synchronously finishes its task inside this loop (no promise per
    // message); one that returns a promise continues on its own chain and pumps again when done.
    while (!this.stopped && this.inflight < this.options.consumeThreadMax && this.head < this.queue.length) {
      const task = this.queue[this.head]!;
      this.queue[this.head++] = undefined;
      if (this.head === this.queue.length) {
        this.queue = [];
        this.head = 0;
      } else if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
        // A consumer that never runs dry would otherwise grow this array for ever.
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      if (task.pq.dropped) continue;
      const slot = this.freeSlots.pop()!;
      this.inflight++;
      let pending: Promise<void> | undefined;
      try {
        pending = this.run(task, slot);
      } catch (err) {
        this.log.error({ mq: task.mq, err: errorMessage(err) }, 'consume task failed');
      }
      if (!pending) {
        this.freeSlots.push(slot);
        this.inflight--;
        continue;
      }
      const p = pending
        .catch((err: unknown) =>
          this.log.error({ mq: task.mq, err: errorMessage(err) }, 'consume task failed'),
        )
        .finally(() => {
          this.running[slot] = undefined;
          this.freeSlots.push(slot);
          this.inflight--;
          this.pump();
        });
      this.running[slot] = p;
    }
  }

  /** Runs the listener on a task; undefined when everything was done synchronously. */
  private run(task: Task, slot: number): Promise<void> | undefined {
    const { msgs, pq, mq } = task;
    prepareForListener(msgs, this.host);
    const context: ConsumeConcurrentlyContext = {
      messageQueue: mq,
      delayLevelWhenNextConsume: 0,
      ackIndex: Number.MAX_SAFE_INTEGER,
      slot,
    };
    let result: ConsumeConcurrentlyStatus | Promise<ConsumeConcurrentlyStatus>;
    try {
      result = this.listener(msgs, context);
    } catch (err) {
      this.listenerThrew(mq, err);
      result = ConsumeConcurrentlyStatus.RECONSUME_LATER;
    }
    if (isThenable(result)) {
      return Promise.resolve(result).then(
        (status) => this.afterListener(this.checkStatus(mq, status), context, task),
        (err: unknown) => {
          this.listenerThrew(mq, err);
          return this.afterListener(ConsumeConcurrentlyStatus.RECONSUME_LATER, context, task);
        },
      );
    }
    const status = this.checkStatus(mq, result);
    if (pq.dropped) return undefined;
    if (status === ConsumeConcurrentlyStatus.CONSUME_SUCCESS && context.ackIndex >= msgs.length - 1) {
      // Everything consumed: what processConsumeResult would do, without a promise.
      this.finish(msgs, pq, mq);
      return undefined;
    }
    return this.processConsumeResult(status, context, task);
  }

  private listenerThrew(mq: MessageQueue, err: unknown): void {
    this.log.warn(
      { mq, err: errorMessage(err) },
      'consumeMessage threw; the messages will be consumed again',
    );
  }

  private checkStatus(mq: MessageQueue, status: unknown): ConsumeConcurrentlyStatus {
    if (
      status !== ConsumeConcurrentlyStatus.CONSUME_SUCCESS &&
      status !== ConsumeConcurrentlyStatus.RECONSUME_LATER
    ) {
      this.log.warn({ mq, status }, 'consumeMessage returned neither CONSUME_SUCCESS nor RECONSUME_LATER');
      return ConsumeConcurrentlyStatus.RECONSUME_LATER;
    }
    return status;
  }

  private afterListener(
    status: ConsumeConcurrentlyStatus,
    context: ConsumeConcurrentlyContext,
    task: Task,
  ): Promise<void> | undefined {
    // The queue moved on (rebalance, shutdown): its new owner consumes these again.
    if (task.pq.dropped) return undefined;
    return this.processConsumeResult(status, context, task);
  }

  /** Finished messages leave the process queue; the offset it then allows is committed. */
  private finish(finished: readonly MessageExt[], pq: ProcessQueue, mq: MessageQueue): void {
    const offset = pq.removeMessages(finished);
    if (offset >= 0 && !pq.dropped) this.host.offsetStore.updateOffset(mq, offset, true);
  }

  private async processConsumeResult(
    status: ConsumeConcurrentlyStatus,
    context: ConsumeConcurrentlyContext,
    task: Task,
  ): Promise<void> {
    const { msgs, pq, mq } = task;
    const ackIndex =
      status === ConsumeConcurrentlyStatus.CONSUME_SUCCESS ? Math.min(context.ackIndex, msgs.length - 1) : -1;
    let finished = msgs;
    if (ackIndex < msgs.length - 1) {
      const failed = msgs.slice(ackIndex + 1);
      if (this.host.messageModel === 'BROADCASTING') {
        for (const m of failed)
          this.log.warn({ msgId: m.msgId, mq }, 'BROADCASTING, the message consume failed, drop it');
      } else {
        const taken = await Promise.all(
          failed.map((m) => this.host.sendMessageBack(m, context.delayLevelWhenNextConsume)),
        );
        const again = failed.filter((_, i) => !taken[i]);
        if (again.length > 0) {
          for (const m of again) m.reconsumeTimes++;
          finished = msgs.filter((m) => !again.includes(m));
          this.submitLater(again, pq, mq);
        }
      }
    }
    this.finish(finished, pq, mq);
  }

  private submitLater(msgs: MessageExt[], pq: ProcessQueue, mq: MessageQueue): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.submit(msgs, pq, mq);
    }, this.options.localRetryDelayMs);
    timer.unref();
    this.timers.add(timer);
  }

  /** Stops taking work; waits up to `awaitMs` for listener calls in progress. */
  async shutdown(awaitMs: number): Promise<void> {
    this.stopped = true;
    this.queue = [];
    this.head = 0;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const running = this.running.filter((p) => p !== undefined);
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

/** A promise or any object with a then method (what `await` would wait for). */
function isThenable(v: unknown): v is PromiseLike<ConsumeConcurrentlyStatus> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}
