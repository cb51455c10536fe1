/**
 * `mqbench producer`: upstream's benchmark Producer. Sends messages of -s bytes to -t with -w sends
 * in flight: `send` (one awaiting loop per slot) or, with -y true, `sendAsync` (a window refilled
 * from the callbacks). Every -ri ms it prints the window's send TPS, max and average RT and the
 * failure counts; at the end a [Complete] line and one JSON line with every figure.
 * RT is measured per message, from building it to its result.
 */
import { Message, Producer } from '../../index.js';
import { errorMessage } from '../../common/errors.js';
import type { ProducerBenchConfig } from './options.js';
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
import { alphanumeric, isBrokerFailure, userProperties } from './bench-messages.js';

export interface ProducerFigures {
  tool: 'producer';
  topic: string;
  messageSize: number;
  inFlight: number;
  asyncEnable: boolean;
  pipelining: boolean;
  autoBatch: number | false;
  serializeType: string;
  elapsedS: number;
  sendTotal: number;
  sendOk: number;
  sendFailed: number;
  responseFailed: number;
  tps: number;
  rtAvgMs: number;
  rtMaxMs: number;
  rtP50Ms: number;
  rtP99Ms: number;
  rtP999Ms: number;
  clientCpuS: number;
}

/** What a run says about how it sends, printed before the first report. */
export function sendingModeLine(cfg: ProducerBenchConfig): string {
  const pipe = cfg.inFlight > 1 ? `on, up to ${cfg.inFlight} sends in flight` : 'off, one send at a time';
  const batch = cfg.autoBatch
    ? `on, up to ${cfg.autoBatch.maxMessages} messages per SEND_BATCH_MESSAGE`
    : 'off, one request per message';
  return `pipelining: ${pipe} | auto-batching: ${batch} | header: ${cfg.serializeType}`;
}

export async function runProducerBench(
  cfg: ProducerBenchConfig,
  out: Out,
  interrupt?: AbortSignal,
): Promise<ProducerFigures> {
  out(
    `topic: ${cfg.topic}, threadCount: ${cfg.inFlight}, messageSize: ${cfg.messageSize}, keyEnable: ${cfg.keyEnable}, ` +
      `propertySize: ${cfg.propertySize}, tagCount: ${cfg.tagCount}, traceEnable: false, aclEnable: false, ` +
      `messageQuantity: ${describeStopRule(cfg.stop)}, delayEnable: ${cfg.delayEnable}, delayLevel: ${cfg.delayLevel}, ` +
      `asyncEnable: ${cfg.asyncEnable}, reportInterval: ${cfg.reportIntervalMs}`,
  );
  out(sendingModeLine(cfg));
  const body = Buffer.from(alphanumeric(cfg.messageSize), 'utf8');
  const producer = new Producer({
    producerGroup: 'benchmark_producer',
    namesrvAddr: cfg.namesrvAddr,
    instanceName: String(Date.now()),
    // As upstream's tool: the bench measures sending, not compressing.
    compressMsgBodyOverHowmuch: 2147483647,
    serializeType: cfg.serializeType,
    autoBatch: cfg.autoBatch ? { maxMessages: cfg.autoBatch.maxMessages } : false,
  });
  await producer.start();

  const hist = new Histogram();
  const window = new WindowStat();
  let sendOk = 0;
  let sendFailed = 0;
  let responseFailed = 0;
  let lastReportOk = 0;
  let lastReportAt = performance.now();
  const cpu0 = process.cpuUsage();
  const report = (): void => {
    const now = performance.now();
    const w = window.take();
    const tps = Math.floor(((sendOk - lastReportOk) * 1000) / Math.max(1, now - lastReportAt));
    lastReportOk = sendOk;
    lastReportAt = now;
    out(
      `Current Time: ${humanTime()} | Send TPS: ${tps} | Max RT(ms): ${Math.round(w.max)} | ` +
        `Average RT(ms): ${fixed(w.count ? w.sum / w.count : 0, 3, 7)} | Send Failed: ${sendFailed} | ` +
        `Response Failed: ${responseFailed}`,
    );
  };
  const clock = new RunClock(cfg.reportIntervalMs, report, cfg.stop);
  const onInterrupt = (): void => clock.stop();
  interrupt?.addEventListener('abort', onInterrupt);

  const limit = cfg.stop.count ?? Infinity;
  let issued = 0;
  const message = (): Message => {
    const msg = new Message(cfg.topic, body);
    if (cfg.keyEnable) msg.keys = String(Math.floor(Date.now() / 1000));
    if (cfg.delayEnable) msg.delayTimeLevel = cfg.delayLevel;
    if (cfg.tagCount > 0) msg.tags = `tag${Date.now() % cfg.tagCount}`;
    if (cfg.propertySize > 0)
      for (const [k, v] of userProperties(cfg.propertySize)) msg.putUserProperty(k, v);
    return msg;
  };
  const succeeded = (begin: number): void => {
    const rt = performance.now() - begin;
    sendOk++;
    hist.record(rt);
    window.add(rt);
  };
  const failed = (err: unknown): void => {
    if (sendFailed + responseFailed === 0) out(`first send failure: ${errorMessage(err)}`);
    if (isBrokerFailure(err)) responseFailed++;
    else sendFailed++;
  };

  await new Promise<void>((resolve) => {
    let inFlight = 0;
    const finishIfDone = (): void => {
      if (inFlight === 0 && (clock.isStopped || issued >= limit)) resolve();
    };
    void clock.done.then(finishIfDone);
    if (cfg.asyncEnable) {
      // One object per send, its methods on the prototype: closures per send showed in the
      // garbage-collection share of the tool's own profile.
      class Pending {
        constructor(private readonly begin: number) {}
        onSuccess(): void {
          inFlight--;
          succeeded(this.begin);
          fill();
          finishIfDone();
        }
        onException(err: Error): void {
          inFlight--;
          failed(err);
          fill();
          finishIfDone();
        }
      }
      const fill = (): void => {
        while (!clock.isStopped && issued < limit && inFlight < cfg.inFlight) {
          issued++;
          inFlight++;
          producer.sendAsync(message(), new Pending(performance.now()));
        }
      };
      fill();
      return;
    }
    const worker = async (): Promise<void> => {
      while (!clock.isStopped && issued < limit) {
        issued++;
        const begin = performance.now();
        try {
          await producer.send(message());
          succeeded(begin);
        } catch (err) {
          failed(err);
        }
      }
    };
    inFlight = cfg.inFlight;
    for (let i = 0; i < cfg.inFlight; i++) {
      void worker().then(() => {
        inFlight--;
        finishIfDone();
      });
    }
  });
  const elapsedMs = clock.elapsedMs;
  clock.stop();
  interrupt?.removeEventListener('abort', onInterrupt);
  await producer.shutdown();
  const cpu = process.cpuUsage(cpu0);
  const tps = Math.floor((sendOk * 1000) / Math.max(1, elapsedMs));
  out(
    `[Complete] Send Total: ${sendOk + sendFailed + responseFailed} | Send TPS: ${tps} | ` +
      `Max RT(ms): ${Math.round(hist.maxMs)} | Average RT(ms): ${fixed(hist.averageMs, 3, 7)} | ` +
      `Send Failed: ${sendFailed} | Response Failed: ${responseFailed}`,
  );
  const figures: ProducerFigures = {
    tool: 'producer',
    topic: cfg.topic,
    messageSize: cfg.messageSize,
    inFlight: cfg.inFlight,
    asyncEnable: cfg.asyncEnable,
    pipelining: cfg.inFlight > 1,
    autoBatch: cfg.autoBatch ? cfg.autoBatch.maxMessages : false,
    serializeType: cfg.serializeType,
    elapsedS: round(elapsedMs / 1000),
    sendTotal: sendOk + sendFailed + responseFailed,
    sendOk,
    sendFailed,
    responseFailed,
    tps,
    rtAvgMs: round(hist.averageMs),
    rtMaxMs: round(hist.maxMs),
    rtP50Ms: round(hist.percentile(0.5)),
    rtP99Ms: round(hist.percentile(0.99)),
    rtP999Ms: round(hist.percentile(0.999)),
    clientCpuS: round((cpu.user + cpu.system) / 1e6),
  };
  out(JSON.stringify(figures));
  return figures;
}
