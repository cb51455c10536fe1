/** PushConsumer options: upstream DefaultMQPushConsumer's names and defaults, and their validation. */
import { positiveInt, type ConsumerOptions } from './consumer-options.js';

export interface PushConsumerOptions extends ConsumerOptions {
  /** Listener calls running at once; orderly: queues consumed at once (20). */
  consumeThreadMax?: number;
  /** Messages per listener call (1). */
  consumeMessageBatchMaxSize?: number;
  /** Messages per pull (32). */
  pullBatchSize?: number;
  /** Pause between pulls of a queue, ms (0). */
  pullInterval?: number;
  /** Pulled-not-consumed messages per queue before pulling pauses (1000). */
  pullThresholdForQueue?: number;
  /** Pulled-not-consumed body MiB per queue before pulling pauses (100). */
  pullThresholdSizeForQueue?: number;
  /** Offset span of unconsumed messages per queue before pulling pauses (2000; concurrent only). */
  consumeConcurrentlyMaxSpan?: number;
  /**
   * Retries before a message goes to the dead-letter queue (-1 = 16). Sent to the broker with
   * every message handed back. Orderly listeners retry locally this many times, then the message
   * goes to the DLQ (upstream's orderly default is unlimited, which lets one bad message hold its
   * queue forever).
   */
  maxReconsumeTimes?: number;
  /** Orderly: pause before a suspended batch is consumed again, ms (1000). */
  suspendCurrentQueueTimeMillis?: number;
  /** Send the subscription with every pull instead of relying on the heartbeat (false). */
  postSubscriptionWhenPull?: boolean;
  /**
   * At shutdown, wait this long for listener calls in progress (0 = do not wait; orderly
   * consumers wait at least 1 s, and keep the lock of a queue still being consumed).
   */
  awaitTerminationMillisWhenShutdown?: number;
  /** Failed messages neither the broker nor the retry topic would take are consumed again here after this delay (5000). */
  localRetryDelayMs?: number;
}

export type PushConsumerSettings = Required<Omit<PushConsumerOptions, keyof ConsumerOptions>>;

/** Upstream's default when maxReconsumeTimes is -1. */
export const DEFAULT_MAX_RECONSUME_TIMES = 16;
const INT_MAX = 2147483647;

export function resolvePushConsumerSettings(options: PushConsumerOptions): PushConsumerSettings {
  return {
    consumeThreadMax: positiveInt('consumeThreadMax', options.consumeThreadMax, 20, 1, 1000),
    consumeMessageBatchMaxSize: positiveInt(
      'consumeMessageBatchMaxSize',
      options.consumeMessageBatchMaxSize,
      1,
      1,
      1024,
    ),
    pullBatchSize: positiveInt('pullBatchSize', options.pullBatchSize, 32, 1, 1024),
    pullInterval: positiveInt('pullInterval', options.pullInterval, 0, 0, 65535),
    pullThresholdForQueue: positiveInt(
      'pullThresholdForQueue',
      options.pullThresholdForQueue,
      1000,
      1,
      65535,
    ),
    pullThresholdSizeForQueue: positiveInt(
      'pullThresholdSizeForQueue',
      options.pullThresholdSizeForQueue,
      100,
      1,
      1024,
    ),
    consumeConcurrentlyMaxSpan: positiveInt(
      'consumeConcurrentlyMaxSpan',
      options.consumeConcurrentlyMaxSpan,
      2000,
      1,
      65535,
    ),
    maxReconsumeTimes: positiveInt('maxReconsumeTimes', options.maxReconsumeTimes, -1, -1, INT_MAX),
    suspendCurrentQueueTimeMillis: positiveInt(
      'suspendCurrentQueueTimeMillis',
      options.suspendCurrentQueueTimeMillis,
      1000,
      0,
      INT_MAX,
    ),
    postSubscriptionWhenPull: options.postSubscriptionWhenPull ?? false,
    awaitTerminationMillisWhenShutdown: positiveInt(
      'awaitTerminationMillisWhenShutdown',
      options.awaitTerminationMillisWhenShutdown,
      0,
      0,
    ),
    localRetryDelayMs: positiveInt('localRetryDelayMs', options.localRetryDelayMs, 5000, 0),
  };
}

/** maxReconsumeTimes with -1 resolved. */
export function effectiveMaxReconsumeTimes(s: PushConsumerSettings): number {
  return s.maxReconsumeTimes === -1 ? DEFAULT_MAX_RECONSUME_TIMES : s.maxReconsumeTimes;
}
