/**
 * `mqbench tproducer`: upstream's benchmark TransactionProducer. -w loops each send a transactional
 * message and wait for it. Every body says how its transaction must end (so the check-back can be
 * verified): bytes 0-7 the run's batch id (-b), 8-15 a message number, 16 the local transaction's
 * outcome (drawn with -sr / -su), 17-36 the answers to the 1st..20th check-back (-cr / -cu).
 * A check-back is "unexpected" when the transaction should already have been decided, and
 * "duplicated" when the broker asks the same time twice. Every -ri ms: send TPS, max and average
 * RT, failures and the check counts; at the end a [Complete] line and one JSON line.
 */
import { randomBytes } from 'node:crypto';
import {
  LocalTransactionState,
  Message,
  SendStatus,
  TransactionProducer,
  type MessageExt,
} from '../../index.js';
import { errorMessage } from '../../common/errors.js';
import type { TransactionBenchConfig } from './options.js';
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

const CHECK_RESULTS = 20;
const HEADER_BYTES = 8 + 8 + 1 + CHECK_RESULTS;
const STATES = [
  LocalTransactionState.COMMIT_MESSAGE,
  LocalTransactionState.ROLLBACK_MESSAGE,
  LocalTransactionState.UNKNOW,
] as const;
/** Check-back history kept per message number (bitmask of the check times seen). */
const HISTORY_MAX = 200_000;

export interface TransactionProducerFigures {
  tool: 'tproducer';
  topic: string;
  messageSize: number;
  inFlight: number;
  serializeType: string;
  elapsedS: number;
  sendOk: number;
  sendFailed: number;
  tps: number;
  rtAvgMs: number;
  rtMaxMs: number;
  checks: number;
  unexpectedChecks: number;
  duplicatedChecks: number;
  clientCpuS: number;
}

function drawState(rollbackRate: number, unknownRate: number): number {
  if (Math.random() < rollbackRate) return 1;
  if (Math.random() < unknownRate) return 2;
  return 0;
}

export async function runTransactionProducerBench(
  cfg: TransactionBenchConfig,
  out: Out,
  interrupt?: AbortSignal,
): Promise<TransactionProducerFigures> {
  out(
    `topic: ${cfg.topic}, threadCount: ${cfg.inFlight}, messageSize: ${cfg.messageSize}, ` +
      `sendRollbackRate: ${cfg.sendRollbackRate}, sendUnknownRate: ${cfg.sendUnknownRate}, ` +
      `checkRollbackRate: ${cfg.checkRollbackRate}, checkUnknownRate: ${cfg.checkUnknownRate}, batchId: ${cfg.batchId}, ` +
      `sendInterval: ${cfg.sendIntervalMs}, reportInterval: ${cfg.reportIntervalMs}, stop: ${describeStopRule(cfg.stop)}`,
  );
  out(
    `pipelining: ${cfg.inFlight > 1 ? `on, up to ${cfg.inFlight} transactions in flight` : 'off'} | auto-batching: off`,
  );
  const startTime = BigInt(Date.now()) << 32n;
  let counter = 0n;
  let checks = 0;
  let unexpected = 0;
  let duplicated = 0;
  const history = new Map<bigint, number>();

  const parse = (body: Buffer): { batchId: bigint; msgNo: bigint; send: number; checks: Buffer } => ({
    batchId: body.readBigInt64BE(0),
    msgNo: body.readBigInt64BE(8),
    send: body[16]!,
    checks: body.subarray(17, HEADER_BYTES),
  });

  const check = (msg: MessageExt): LocalTransactionState => {
    const meta = parse(msg.body);
    if (meta.batchId !== BigInt(cfg.batchId)) return LocalTransactionState.ROLLBACK_MESSAGE;
    checks++;
    const raw = Number(msg.getUserProperty('TRANSACTION_CHECK_TIMES'));
    if (!Number.isInteger(raw)) return LocalTransactionState.ROLLBACK_MESSAGE;
    const times = Math.min(Math.max(raw, 1), CHECK_RESULTS);
    const before = history.get(meta.msgNo) ?? 0;
    const now = before | (1 << (times - 1));
    if (now === before) duplicated++;
    history.delete(meta.msgNo);
    history.set(meta.msgNo, now);
    if (history.size > HISTORY_MAX) history.delete(history.keys().next().value!);
    if (STATES[meta.send] !== LocalTransactionState.UNKNOW) {
      unexpected++;
      return STATES[meta.send] ?? LocalTransactionState.ROLLBACK_MESSAGE;
    }
    for (let i = 0; i < times - 1; i++) {
      const s = STATES[meta.checks[i]!];
      if (s !== LocalTransactionState.UNKNOW) {
        unexpected++;
        return s ?? LocalTransactionState.ROLLBACK_MESSAGE;
      }
    }
    return STATES[meta.checks[times - 1]!] ?? LocalTransactionState.ROLLBACK_MESSAGE;
  };

  const producer = new TransactionProducer({
    producerGroup: 'benchmark_transaction_producer',
    namesrvAddr: cfg.namesrvAddr,
    instanceName: String(Date.now()),
    defaultTopicQueueNums: 1000,
    serializeType: cfg.serializeType,
    checkLocalTransaction: check,
  });
  await producer.start();

  const message = (): Message => {
    const body = randomBytes(cfg.messageSize);
    body.writeBigInt64BE(BigInt(cfg.batchId), 0);
    // Java's long arithmetic: the start time shifted left wraps around 64 bits.
    body.writeBigInt64BE(BigInt.asIntN(64, startTime | counter++), 8);
    body[16] = drawState(cfg.sendRollbackRate, cfg.sendUnknownRate);
    for (let i = 0; i < CHECK_RESULTS; i++)
      body[17 + i] = drawState(cfg.checkRollbackRate, cfg.checkUnknownRate);
    return new Message(cfg.topic, body);
  };

  const hist = new Histogram();
  const window = new WindowStat();
  let sendOk = 0;
  let sendFailed = 0;
  let last = { at: performance.now(), ok: 0, failed: 0, checks: 0, unexpected: 0, duplicated: 0 };
  const cpu0 = process.cpuUsage();
  const report = (): void => {
    const now = performance.now();
    const w = window.take();
    const tps = Math.floor(
      ((sendOk + sendFailed - last.ok - last.failed) * 1000) / Math.max(1, now - last.at),
    );
    out(
      `Current Time: ${humanTime()} | Send TPS: ${String(tps).padStart(5)} | Max RT(ms): ${String(Math.round(w.max)).padStart(5)} | ` +
        `AVG RT(ms): ${fixed(w.count ? w.sum / w.count : 0, 1, 3)} | Send Failed: ${sendFailed - last.failed} | ` +
        `Check: ${checks - last.checks} | UnexpectedCheck: ${unexpected - last.unexpected} | ` +
        `DuplicatedCheck: ${duplicated - last.duplicated}`,
    );
    last = { at: now, ok: sendOk, failed: sendFailed, checks, unexpected, duplicated };
  };
  const clock = new RunClock(cfg.reportIntervalMs, report, cfg.stop);
  const onInterrupt = (): void => clock.stop();
  interrupt?.addEventListener('abort', onInterrupt);

  const limit = cfg.stop.count ?? Infinity;
  let issued = 0;
  const worker = async (): Promise<void> => {
    while (!clock.isStopped && issued < limit) {
      issued++;
      const begin = performance.now();
      try {
        const r = await producer.sendMessageInTransaction(message(), (m) => STATES[m.body[16]!]!);
        if (r.sendStatus === SendStatus.SEND_OK) sendOk++;
        else sendFailed++;
      } catch (err) {
        if (sendFailed++ === 0) out(`first send failure: ${errorMessage(err)}`);
      }
      const rt = performance.now() - begin;
      hist.record(rt);
      window.add(rt);
      if (cfg.sendIntervalMs > 0) await new Promise((r) => setTimeout(r, cfg.sendIntervalMs));
    }
  };
  await Promise.all(Array.from({ length: cfg.inFlight }, worker));
  const elapsedMs = clock.elapsedMs;
  clock.stop();
  interrupt?.removeEventListener('abort', onInterrupt);
  await producer.shutdown();
  const cpu = process.cpuUsage(cpu0);
  const figures: TransactionProducerFigures = {
    tool: 'tproducer',
    topic: cfg.topic,
    messageSize: cfg.messageSize,
    inFlight: cfg.inFlight,
    serializeType: cfg.serializeType,
    elapsedS: round(elapsedMs / 1000),
    sendOk,
    sendFailed,
    tps: Math.floor((sendOk * 1000) / Math.max(1, elapsedMs)),
    rtAvgMs: round(hist.averageMs),
    rtMaxMs: round(hist.maxMs),
    checks,
    unexpectedChecks: unexpected,
    duplicatedChecks: duplicated,
    clientCpuS: round((cpu.user + cpu.system) / 1e6),
  };
  out(
    `[Complete] Send Total: ${sendOk + sendFailed} | Send TPS: ${figures.tps} | Max RT(ms): ${Math.round(hist.maxMs)} | ` +
      `AVG RT(ms): ${fixed(hist.averageMs, 1, 3)} | Send Failed: ${sendFailed} | Check: ${checks} | ` +
      `UnexpectedCheck: ${unexpected} | DuplicatedCheck: ${duplicated}`,
  );
  out(JSON.stringify(figures));
  return figures;
}
