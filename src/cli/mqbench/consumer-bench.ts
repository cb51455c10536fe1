/**
 * `mqbench consumer`: upstream's benchmark Consumer. A clustering PushConsumer of -g on -t with -w
 * listener calls in flight; each message counts its born-to-consume (B2C) and store-to-consume
 * (S2C) time (ms, from the message's timestamps, so both clocks must agree). -r is the share of
 * messages answered RECONSUME_LATER. Every -ri ms: the window's TPS, average and max RTs and the
 * failures; it stops after -q messages or a duration (upstream's runs until interrupted), then
 * prints a [Complete] line and one JSON line.
 */
import { readFileSync } from 'node:fs';
import {
  ConsumeConcurrentlyStatus,
  PushConsumer,
  RmqError,
  ErrorCode,
  type MessageExt,
} from '../../index.js';
import type { ConsumerBenchConfig } from './options.js';
import { RunClock, WindowStat, describeStopRule, fixed, humanTime, round, type Out } from './stats.js';

export interface ConsumerFigures {
  tool: 'consumer';
  topic: string;
  group: string;
  concurrency: number;
  consumeBatchSize: number;
  serializeType: string;
  elapsedS: number;
  /** From the first message received to the last (the steady part of the run). */
  activeS: number;
  consumed: number;
  failed: number;
  tps: number;
  activeTps: number;
  b2cAvgMs: number;
  b2cMaxMs: number;
  s2cAvgMs: number;
  s2cMaxMs: number;
  clientCpuS: number;
}

function subscription(cfg: ConsumerBenchConfig): string {
  if (!cfg.filterType || !cfg.expressionFile) return '*';
  if (cfg.filterType !== 'TAG') {
    throw new RmqError(
      ErrorCode.ILLEGAL_ARGUMENT,
      `filter type ${cfg.filterType} is not supported (TAG only)`,
    );
  }
  return readFileSync(cfg.expressionFile, 'utf8').trim();
}

export async function runConsumerBench(
  cfg: ConsumerBenchConfig,
  out: Out,
  interrupt?: AbortSignal,
): Promise<ConsumerFigures> {
  const expression = subscription(cfg);
  out(
    `topic: ${cfg.topic}, threadCount ${cfg.concurrency}, group: ${cfg.group}, filterType: ${cfg.filterType ?? null}, ` +
      `expression: ${expression}, msgTraceEnable: false, aclEnable: false, reportInterval: ${cfg.reportIntervalMs}, ` +
      `stop: ${describeStopRule(cfg.stop)}, consumeFromWhere: ${cfg.consumeFromWhere}, batch: ${cfg.consumeBatchSize}`,
  );
  const consumer = new PushConsumer({
    consumerGroup: cfg.group,
    namesrvAddr: cfg.namesrvAddr,
    instanceName: String(Date.now()),
    consumeThreadMax: cfg.concurrency,
    consumeMessageBatchMaxSize: cfg.consumeBatchSize,
    consumeFromWhere: cfg.consumeFromWhere,
    serializeType: cfg.serializeType,
  });
  consumer.subscribe(cfg.topic, expression);

  const b2c = new WindowStat();
  const s2c = new WindowStat();
  let b2cTotal = 0;
  let s2cTotal = 0;
  let b2cMax = 0;
  let s2cMax = 0;
  let consumed = 0;
  let failed = 0;
  let lastConsumed = 0;
  let lastFailed = 0;
  let firstAt = 0;
  let lastAt = 0;
  let lastReportAt = performance.now();
  const limit = cfg.stop.count ?? Infinity;
  const cpu0 = process.cpuUsage();

  const report = (): void => {
    const now = performance.now();
    const b = b2c.take();
    const s = s2c.take();
    const tps = Math.floor(((consumed - lastConsumed) * 1000) / Math.max(1, now - lastReportAt));
    out(
      `Current Time: ${humanTime()} | Consume TPS: ${tps} | AVG(B2C) RT(ms): ${fixed(b.count ? b.sum / b.count : 0, 3, 7)} | ` +
        `AVG(S2C) RT(ms): ${fixed(s.count ? s.sum / s.count : 0, 3, 7)} | MAX(B2C) RT(ms): ${b.max} | ` +
        `MAX(S2C) RT(ms): ${s.max} | Consume Fail: ${failed - lastFailed}`,
    );
    lastConsumed = consumed;
    lastFailed = failed;
    lastReportAt = now;
  };
  const clock = new RunClock(cfg.reportIntervalMs, report, cfg.stop);
  const onInterrupt = (): void => clock.stop();
  interrupt?.addEventListener('abort', onInterrupt);

  consumer.registerMessageListener((msgs: MessageExt[]) => {
    const now = Date.now();
    const t = performance.now();
    if (firstAt === 0) firstAt = t;
    lastAt = t;
    let status: ConsumeConcurrentlyStatus = ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    for (const m of msgs) {
      const b = now - m.bornTimestamp;
      const s = now - m.storeTimestamp;
      b2c.add(b);
      s2c.add(s);
      b2cTotal += b;
      s2cTotal += s;
      if (b > b2cMax) b2cMax = b;
      if (s > s2cMax) s2cMax = s;
    }
    if (cfg.failRate > 0 && Math.random() < cfg.failRate) {
      failed += msgs.length;
      status = ConsumeConcurrentlyStatus.RECONSUME_LATER;
    } else {
      consumed += msgs.length;
    }
    if (consumed >= limit) clock.stop();
    return status;
  });
  await consumer.start();
  out('Consumer Started.');
  await clock.done;
  const elapsedMs = clock.elapsedMs;
  interrupt?.removeEventListener('abort', onInterrupt);
  await consumer.shutdown();
  const cpu = process.cpuUsage(cpu0);
  const seen = consumed + failed;
  const activeMs = lastAt - firstAt;
  const tps = Math.floor((consumed * 1000) / Math.max(1, elapsedMs));
  const figures: ConsumerFigures = {
    tool: 'consumer',
    topic: cfg.topic,
    group: cfg.group,
    concurrency: cfg.concurrency,
    consumeBatchSize: cfg.consumeBatchSize,
    serializeType: cfg.serializeType,
    elapsedS: round(elapsedMs / 1000),
    activeS: round(activeMs / 1000),
    consumed,
    failed,
    tps,
    activeTps: activeMs > 0 ? Math.floor((consumed * 1000) / activeMs) : tps,
    b2cAvgMs: round(seen ? b2cTotal / seen : 0),
    b2cMaxMs: b2cMax,
    s2cAvgMs: round(seen ? s2cTotal / seen : 0),
    s2cMaxMs: s2cMax,
    clientCpuS: round((cpu.user + cpu.system) / 1e6),
  };
  out(
    `[Complete] Consume Total: ${consumed} | Consume TPS: ${tps} | AVG(B2C) RT(ms): ${fixed(figures.b2cAvgMs, 3, 7)} | ` +
      `AVG(S2C) RT(ms): ${fixed(figures.s2cAvgMs, 3, 7)} | MAX(B2C) RT(ms): ${b2cMax} | MAX(S2C) RT(ms): ${s2cMax} | ` +
      `Consume Fail: ${failed}`,
  );
  out(JSON.stringify(figures));
  return figures;
}
