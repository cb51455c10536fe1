/**
 * The client side of one end-to-end workload, in a process of its own (started by e2e-bench.ts
 * with one JSON argument). Producing workloads run `mqbench producer`'s code, consuming ones
 * `mqbench consumer`'s, so the suite measures what the tools measure. Talks to its parent:
 *   -> {type:'phase'}   B only: the topic is loaded; the parent starts measuring the broker
 *   <- {type:'go'}      ... and lets consumption start
 *   -> {type:'result', figures}
 */
import './quiet-logs.js';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { runProducerBench, type ProducerFigures } from '../../src/cli/mqbench/producer-bench.js';
import { runConsumerBench, type ConsumerFigures } from '../../src/cli/mqbench/consumer-bench.js';
import type { ProducerBenchConfig } from '../../src/cli/mqbench/options.js';
import { runLatency, type LatencyFigures } from './latency.js';
import { ThreadCpu, type ThreadCpuSeconds } from './thread-cpu.js';

export interface ClientArgs {
  kind: 'produce' | 'consume' | 'latency';
  name: string;
  namesrvAddr: string;
  topic: string;
  count: number;
  size: number;
  inFlight: number;
  autoBatch: number | false;
  /** Progress line interval of the mqbench tools (ms). */
  reportMs: number;
  /** C: rate (msgs/s) and seconds. */
  rate?: number;
  seconds?: number;
  /** Write a sampled allocation profile (garbage included) of the measured part here. */
  allocProfile?: string;
}

type MeasuredFigures = ProducerFigures | ConsumerFigures | (LatencyFigures & { clientCpuS: number });
/** The measured part's CPU by thread (thread-cpu.ts) comes with every workload's figures. */
export type ClientFigures = MeasuredFigures & { threads: ThreadCpuSeconds };

const args = JSON.parse(process.argv[2] ?? '{}') as ClientArgs;
const log = (line: string): void => {
  process.stdout.write(`  [${args.name}] ${line}\n`);
};

function producerConfig(count: number, quiet: boolean): ProducerBenchConfig {
  return {
    namesrvAddr: args.namesrvAddr,
    topic: args.topic,
    reportIntervalMs: quiet ? 3_600_000 : args.reportMs,
    serializeType: 'ROCKETMQ',
    stop: { count },
    inFlight: args.inFlight,
    messageSize: args.size,
    keyEnable: false,
    tagCount: 0,
    propertySize: 0,
    delayEnable: false,
    delayLevel: 1,
    asyncEnable: true,
    autoBatch: args.autoBatch ? { maxMessages: args.autoBatch } : false,
  };
}

/** The measured part's allocations (inspector sampling heap profiler), when asked for. */
const inspector = args.allocProfile ? new Session() : undefined;
inspector?.connect();
const post = (method: string, params?: object): Promise<unknown> =>
  new Promise((resolve, reject) =>
    inspector!.post(method, params, (err, r) => (err ? reject(err) : resolve(r))),
  );
async function startAllocProfile(): Promise<void> {
  if (!inspector) return;
  await post('HeapProfiler.enable');
  await post('HeapProfiler.startSampling', {
    samplingInterval: 4096,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
}
async function stopAllocProfile(): Promise<void> {
  if (!inspector) return;
  const { profile } = (await post('HeapProfiler.stopSampling')) as { profile: object };
  writeFileSync(args.allocProfile!, JSON.stringify(profile));
}

const threadCpu = new ThreadCpu();

async function main(): Promise<ClientFigures> {
  const figures = await measured();
  const threads = threadCpu.take();
  await stopAllocProfile();
  return { ...figures, threads };
}

async function measured(): Promise<MeasuredFigures> {
  if (args.kind === 'produce') {
    await startAllocProfile();
    threadCpu.take();
    return runProducerBench(producerConfig(args.count, false), log);
  }
  if (args.kind === 'consume') {
    // Load the topic first (not measured), then consume it all from the first offset.
    await runProducerBench(
      { ...producerConfig(args.count, true), autoBatch: { maxMessages: 128 } },
      () => {},
    );
    process.send!({ type: 'phase' });
    await once(process, 'message');
    await startAllocProfile();
    threadCpu.take();
    return runConsumerBench(
      {
        namesrvAddr: args.namesrvAddr,
        topic: args.topic,
        reportIntervalMs: args.reportMs,
        serializeType: 'ROCKETMQ',
        stop: { count: args.count },
        concurrency: 20,
        group: `bench_${args.name}_consumer`,
        filterType: undefined,
        expressionFile: undefined,
        failRate: 0,
        consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
        consumeBatchSize: 1,
      },
      log,
    );
  }
  await startAllocProfile();
  threadCpu.take();
  const cpu0 = process.cpuUsage();
  const figures = await runLatency({
    namesrvAddr: args.namesrvAddr,
    topic: args.topic,
    rate: args.rate ?? 5000,
    seconds: args.seconds ?? 10,
    warmupSeconds: 1,
    size: args.size,
    log,
  });
  const cpu = process.cpuUsage(cpu0);
  return { ...figures, clientCpuS: Math.round((cpu.user + cpu.system) / 1e3) / 1e3 };
}

main().then(
  (figures) => {
    process.send!({ type: 'result', figures }, () => process.exit(0));
  },
  (err: unknown) => {
    process.stderr.write(`[${args.name}] failed: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
