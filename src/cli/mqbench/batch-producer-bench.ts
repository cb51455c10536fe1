/**
 * `mqbench batchproducer`: upstream's benchmark BatchProducer. -w loops each send batches of -b
 * messages of -s bytes with `send(msgs[])` (one SEND_BATCH_MESSAGE each). Every -ri ms: requests
 * per second (Send TPS), messages per second (Send MPS), RTs per request and per message, and
 * the failures; at the end a [Complete] line and one JSON line.
 */
import { Message, Producer, SendStatus } from '../../index.js';
import { errorMessage } from '../../common/errors.js';
import type { BatchBenchConfig } from './options.js';
import {
  Histogram,
  RunClock,
  WindowStat,
  describeStopRule,
  fixed,
  humanTime,
  round,
  type Out,
} from './stats.js';
import { alphanumeric, userProperties } from './bench-messages.js';

export interface BatchProducerFigures {
  tool: 'batchproducer';
  topic: string;
  messageSize: number;
  batchSize: number;
  inFlight: number;
  serializeType: string;
  elapsedS: number;
  requestsOk: number;
  requestsFailed: number;
  messagesOk: number;
  messagesFailed: number;
  tps: number;
  mps: number;
  rtAvgMs: number;
  rtMaxMs: number;
  rtP99Ms: number;
  clientCpuS: number;
}

export async function runBatchProducerBench(
  cfg: BatchBenchConfig,
  out: Out,
  interrupt?: AbortSignal,
): Promise<BatchProducerFigures> {
  out(
    `topic: ${cfg.topic}, threadCount: ${cfg.inFlight}, messageSize: ${cfg.messageSize}, batchSize: ${cfg.batchSize}, ` +
      `keyEnable: ${cfg.keyEnable}, propertySize: ${cfg.propertySize}, tagCount: ${cfg.tagCount}, traceEnable: false, ` +
      `aclEnable: false, reportInterval: ${cfg.reportIntervalMs}, messageQuantity: ${describeStopRule(cfg.stop)}`,
  );
  out(
    `pipelining: ${cfg.inFlight > 1 ? `on, up to ${cfg.inFlight} batches in flight` : 'off'} | ` +
      `auto-batching: off (explicit batches of ${cfg.batchSize}) | header: ${cfg.serializeType}`,
  );
  const body = Buffer.from(alphanumeric(cfg.messageSize), 'utf8');
  const producer = new Producer({
    producerGroup: 'benchmark_batch_producer',
    namesrvAddr: cfg.namesrvAddr,
    instanceName: String(Date.now()),
    compressMsgBodyOverHowmuch: 2147483647,
    serializeType: cfg.serializeType,
  });
  await producer.start();

  const hist = new Histogram();
  const window = new WindowStat();
  let requestsOk = 0;
  let requestsFailed = 0;
  let messagesOk = 0;
  let messagesFailed = 0;
  let last = { at: performance.now(), requests: 0, messages: 0 };
  const cpu0 = process.cpuUsage();
  const report = (): void => {
    const now = performance.now();
    const w = window.take();
    const secs = Math.max(1, now - last.at) / 1000;
    const tps = Math.floor((requestsOk - last.requests) / secs);
    const mps = Math.floor((messagesOk - last.messages) / secs);
    const avg = w.count ? w.sum / w.count : 0;
    out(
      `Current Time: ${humanTime()} | Send TPS: ${tps} | Send MPS: ${mps} | Max RT(ms): ${Math.round(w.max)} | ` +
        `Average RT(ms): ${fixed(avg, 3, 7)} | Average Message RT(ms): ${fixed(avg / cfg.batchSize, 3, 7)} | ` +
        `Send Failed: ${requestsFailed} | Send Message Failed: ${messagesFailed}`,
    );
    last = { at: now, requests: requestsOk, messages: messagesOk };
  };
  const clock = new RunClock(cfg.reportIntervalMs, report, cfg.stop);
  const onInterrupt = (): void => clock.stop();
  interrupt?.addEventListener('abort', onInterrupt);

  const limit = cfg.stop.count ?? Infinity;
  let issued = 0;
  let tagId = 0;
  const batch = (n: number): Message[] => {
    const keys = String(Math.floor(Date.now() / 1000));
    const msgs: Message[] = [];
    for (let i = 0; i < n; i++) {
      const m = new Message(cfg.topic, body);
      if (cfg.keyEnable) m.keys = keys;
      if (cfg.tagCount > 0) m.tags = `tag${tagId++ % cfg.tagCount}`;
      if (cfg.propertySize > 0)
        for (const [k, v] of userProperties(cfg.propertySize)) m.putUserProperty(k, v);
      msgs.push(m);
    }
    return msgs;
  };
  const worker = async (): Promise<void> => {
    while (!clock.isStopped && issued < limit) {
      const n = Math.min(cfg.batchSize, limit - issued);
      issued += n;
      const begin = performance.now();
      try {
        const r = await producer.send(batch(n));
        if (r.sendStatus === SendStatus.SEND_OK) {
          requestsOk++;
          messagesOk += n;
        } else {
          requestsFailed++;
          messagesFailed += n;
        }
        const rt = performance.now() - begin;
        hist.record(rt);
        window.add(rt);
      } catch (err) {
        if (requestsFailed === 0) out(`first send failure: ${errorMessage(err)}`);
        requestsFailed++;
        messagesFailed += n;
      }
    }
  };
  await Promise.all(Array.from({ length: cfg.inFlight }, worker));
  const elapsedMs = clock.elapsedMs;
  clock.stop();
  interrupt?.removeEventListener('abort', onInterrupt);
  await producer.shutdown();
  const cpu = process.cpuUsage(cpu0);
  const secs = Math.max(1, elapsedMs) / 1000;
  const figures: BatchProducerFigures = {
    tool: 'batchproducer',
    topic: cfg.topic,
    messageSize: cfg.messageSize,
    batchSize: cfg.batchSize,
    inFlight: cfg.inFlight,
    serializeType: cfg.serializeType,
    elapsedS: round(elapsedMs / 1000),
    requestsOk,
    requestsFailed,
    messagesOk,
    messagesFailed,
    tps: Math.floor(requestsOk / secs),
    mps: Math.floor(messagesOk / secs),
    rtAvgMs: round(hist.averageMs),
    rtMaxMs: round(hist.maxMs),
    rtP99Ms: round(hist.percentile(0.99)),
    clientCpuS: round((cpu.user + cpu.system) / 1e6),
  };
  out(
    `[Complete] Send Total: ${requestsOk + requestsFailed} | Send TPS: ${figures.tps} | Send MPS: ${figures.mps} | ` +
      `Max RT(ms): ${Math.round(hist.maxMs)} | Average RT(ms): ${fixed(hist.averageMs, 3, 7)} | ` +
      `Send Failed: ${requestsFailed} | Send Message Failed: ${messagesFailed}`,
  );
  out(JSON.stringify(figures));
  return figures;
}
