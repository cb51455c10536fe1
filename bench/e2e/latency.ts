/**
 * Workload C: end-to-end latency at a fixed rate. One process holds a producer and a push
 * consumer of the same topic; messages leave at `rate` per second for `seconds` (paced by a 1 ms
 * timer, so a few leave per tick), each carrying its sequence number in its first 4 bytes, and the
 * time from sendAsync to the listener call is recorded per message on the same clock. The first
 * `warmupSeconds` of messages are dropped; percentiles come from the sorted samples.
 */
import { once } from 'node:events';
import { PerformanceObserver, monitorEventLoopDelay } from 'node:perf_hooks';
import {
  ConsumeConcurrentlyStatus,
  Message,
  Producer,
  PushConsumer,
  type MessageExt,
} from '../../src/index.js';
import { quantile, round } from '../../src/cli/mqbench/stats.js';

export interface LatencyOptions {
  namesrvAddr: string;
  topic: string;
  rate: number;
  seconds: number;
  warmupSeconds: number;
  size: number;
  log: (line: string) => void;
}

export interface LatencyFigures {
  sent: number;
  received: number;
  sendFailed: number;
  samples: number;
  achievedRate: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  avgMs: number;
  /** The two halves (ms clock of the message's timestamps): producer to store, store to listener. */
  bornToStoreP99Ms: number;
  storeToConsumeP99Ms: number;
  /** The client's event-loop delay while sending (ms). */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /** The client's garbage-collection pauses while sending: longest and total (ms). */
  gcMaxMs: number;
  gcTotalMs: number;
}

/** Message bodies in flight at most, by far (about 1.6 s of sending at 5,000/s). */
const RING = 8192;

export async function runLatency(o: LatencyOptions): Promise<LatencyFigures> {
  const total = Math.round(o.rate * o.seconds);
  const warm = Math.round(o.rate * o.warmupSeconds);
  const sentAt = new Float64Array(total).fill(-1);
  const latency = new Float64Array(total).fill(-1);
  const bornToStore = new Float64Array(total).fill(-1);
  const storeToConsume = new Float64Array(total).fill(-1);
  let received = 0;
  let probeSeen = false;
  const allIn = new AbortController();

  const consumer = new PushConsumer({
    consumerGroup: 'bench_latency_consumer',
    namesrvAddr: o.namesrvAddr,
    instanceName: `latency-${process.pid}`,
    consumeFromWhere: 'CONSUME_FROM_LAST_OFFSET',
    consumeThreadMax: 64,
    serializeType: 'ROCKETMQ',
  });
  consumer.subscribe(o.topic, '*');
  consumer.registerMessageListener((msgs: MessageExt[]) => {
    const now = performance.now();
    const wall = Date.now();
    for (const m of msgs) {
      if (m.body.length < 4) continue;
      const seq = m.body.readInt32BE(0);
      if (seq < 0) {
        probeSeen = true;
        continue;
      }
      if (seq < total && latency[seq]! < 0 && sentAt[seq]! >= 0) {
        latency[seq] = now - sentAt[seq]!;
        bornToStore[seq] = m.storeTimestamp - m.bornTimestamp;
        storeToConsume[seq] = wall - m.storeTimestamp;
        if (++received === total) allIn.abort();
      }
    }
    return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
  });
  const producer = new Producer({
    producerGroup: 'bench_latency_producer',
    namesrvAddr: o.namesrvAddr,
    instanceName: `latency-${process.pid}`,
    serializeType: 'ROCKETMQ',
  });
  await producer.start();
  await consumer.start();

  // Probes until one comes back: routes known, queues assigned, pulls parked on the broker.
  const probe = Buffer.alloc(o.size);
  probe.writeInt32BE(-1, 0);
  for (let i = 0; i < 100 && !probeSeen; i++) {
    await producer.send(new Message(o.topic, probe));
    await new Promise((r) => setTimeout(r, 100));
  }
  o.log(`C: consumer ready (${consumer.assignment().length} queues); ${total} messages at ${o.rate}/s`);

  let sent = 0;
  let sendFailed = 0;
  const ring = Buffer.alloc(RING * o.size);
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  let gcMaxMs = 0;
  let gcTotalMs = 0;
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcTotalMs += e.duration;
      if (e.duration > gcMaxMs) gcMaxMs = e.duration;
    }
  });
  gc.observe({ entryTypes: ['gc'] });
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) * o.rate) / 1000));
      while (sent < due) {
        const seq = sent++;
        // Bodies are views of one ring (a fresh Buffer per message fed the garbage collector
        // enough external memory to cause long pauses); a slot comes back long after its send
        // has been written out.
        const slot = (seq % RING) * o.size;
        const body = ring.subarray(slot, slot + o.size);
        body.writeInt32BE(seq, 0);
        sentAt[seq] = performance.now();
        producer.sendAsync(new Message(o.topic, body), {
          onSuccess: () => {},
          onException: () => {
            sendFailed++;
          },
        });
      }
      if (sent >= total) {
        clearInterval(timer);
        resolve();
      }
    };
    const timer = setInterval(tick, 1);
  });
  const sendSeconds = (performance.now() - t0) / 1000;
  loopDelay.disable();
  gc.disconnect();
  // Stragglers: wait for the rest, at most 5 s.
  const timeout = setTimeout(() => allIn.abort(), 5000);
  if (!allIn.signal.aborted) await once(allIn.signal, 'abort');
  clearTimeout(timeout);
  await consumer.shutdown();
  await producer.shutdown();

  const keep = (a: Float64Array): Float64Array => {
    const kept: number[] = [];
    for (let i = warm; i < total; i++) if (latency[i]! >= 0) kept.push(a[i]!);
    return Float64Array.from(kept).sort();
  };
  const sorted = keep(latency);
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    sent,
    received,
    sendFailed,
    samples: sorted.length,
    achievedRate: Math.round(sent / sendSeconds),
    p50Ms: round(quantile(sorted, 0.5)),
    p90Ms: round(quantile(sorted, 0.9)),
    p99Ms: round(quantile(sorted, 0.99)),
    p999Ms: round(quantile(sorted, 0.999)),
    maxMs: round(sorted.length ? sorted[sorted.length - 1]! : 0),
    avgMs: round(sorted.length ? sum / sorted.length : 0),
    bornToStoreP99Ms: quantile(keep(bornToStore), 0.99),
    storeToConsumeP99Ms: quantile(keep(storeToConsume), 0.99),
    loopDelayP99Ms: round(loopDelay.percentile(99) / 1e6),
    loopDelayMaxMs: round(loopDelay.max / 1e6),
    gcMaxMs: round(gcMaxMs),
    gcTotalMs: round(gcTotalMs),
  };
}
