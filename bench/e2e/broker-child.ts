/**
 * The broker of the end-to-end benchmark, in a process of its own so that its CPU time and memory
 * can be told apart from the client's. Started by e2e-bench.ts with one JSON argument:
 *   {"namesrvAddr":"127.0.0.1:p","dir":"/tmp/...","flushDiskType":"ASYNC_FLUSH","props":{...}}
 * It binds 127.0.0.1 on an ephemeral port, then talks to its parent over IPC:
 *   -> {type:'ready', addr}            once serving
 *   <- {type:'mark', window?}          start a measuring window (CPU and peak RSS reset); with
 *                                      `profileDir` in the arguments, each named window is also
 *                                      CPU-profiled into <profileDir>/broker-<window>.cpuprofile
 *   -> {type:'usage', cpuSeconds, peakRssMiB, rssMiB, ...}   answer to 'mark' (figures of the
 *                                      window just closed, CPU also by thread: thread-cpu.ts)
 *   <- {type:'stop'}                   clean shutdown, then exit
 * If the parent goes away the broker stops too, so nothing is left running.
 * Diagnostic switch: BENCH_NULL_STORE=1 answers puts at once without storing (the ceiling of
 * everything but the store; consuming workloads then find nothing).
 */
import './quiet-logs.js';
import { writeFileSync } from 'node:fs';
import { diskReadBytes } from '../disk-read-bytes.js';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { PerformanceObserver, monitorEventLoopDelay } from 'node:perf_hooks';
import { getLogger } from '../../src/common/logger.js';
import { BrokerController } from '../../src/broker/broker-controller.js';
import { loadBrokerConfig } from '../../src/cli/broker-config-loader.js';
import { Histogram } from '../../src/cli/mqbench/stats.js';
import { ThreadCpu } from './thread-cpu.js';

interface Args {
  profileDir?: string;
  /** Also a sampling allocation profile per window (broker-<window>.heapprofile), garbage included. */
  allocProfile?: boolean;
  namesrvAddr: string;
  dir: string;
  flushDiskType: 'ASYNC_FLUSH' | 'SYNC_FLUSH';
  props?: Record<string, string>;
}

const MiB = 1024 * 1024;
const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const log = getLogger('bench.broker');

// RSS is sampled, not read once: a put burst can peak and fall between two marks.
let peakRss = process.memoryUsage.rss();
const sampler = setInterval(() => {
  const rss = process.memoryUsage.rss();
  if (rss > peakRss) peakRss = rss;
}, 20);
sampler.unref();
let cpuMark = process.cpuUsage();
// Made before the broker starts, so its CommitLog writer thread counts as a thread started later.
const threadCpu = new ThreadCpu();

let diskReadMark = diskReadBytes();
// How late the event loop runs (a blocked loop delays every answer, a latency tail's usual cause).
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();
let gcMaxMs = 0;
let gcTotalMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gcTotalMs += e.duration;
    if (e.duration > gcMaxMs) gcMaxMs = e.duration;
  }
}).observe({ entryTypes: ['gc'] });

const props = new Map<string, string>(
  Object.entries({
    brokerName: 'broker-bench',
    brokerClusterName: 'BenchCluster',
    brokerIP1: '127.0.0.1',
    brokerIP2: '127.0.0.1',
    listenPort: '0',
    bindAddress: '127.0.0.1',
    namesrvAddr: args.namesrvAddr,
    storePathRootDir: join(args.dir, 'store'),
    flushDiskType: args.flushDiskType,
    ...args.props,
  }),
);
const cfg = loadBrokerConfig(undefined, props, log);
const broker = new BrokerController({ ...cfg, log });
await broker.start();

/**
 * Store put latency (put called -> put resolved) and get latency (a pull's read), to tell the
 * store's share of a round trip from the transport's: the store object is wrapped here, in the
 * benchmark only.
 */
const putLatency = new Histogram();
const getLatency = new Histogram();
{
  const s = broker.store as unknown as { getMessage: (...a: unknown[]) => Promise<{ messages: unknown[] }> };
  const original = s.getMessage.bind(broker.store);
  s.getMessage = (...a: unknown[]) => {
    const t0 = performance.now();
    return original(...a).then((r) => {
      if (r.messages.length > 0) getLatency.record(performance.now() - t0);
      return r;
    });
  };
}
const store = broker.store as unknown as Record<
  'putMessage' | 'putMessages',
  (m: unknown) => Promise<unknown>
>;
for (const name of ['putMessage', 'putMessages'] as const) {
  const original = process.env.BENCH_NULL_STORE
    ? // Experiment only: answer puts at once, to see the ceiling of everything but the store.
      (m: unknown) =>
        Promise.resolve({
          status: 'PUT_OK',
          appendResult: {
            wroteOffset: 0,
            wroteBytes: 0,
            msgId: 'X',
            storeTimestamp: 0,
            logicsOffset: 0,
            msgNum: 1,
          },
          m,
        })
    : store[name].bind(broker.store);
  store[name] = (m: unknown) => {
    const t0 = performance.now();
    return original(m).then((r) => {
      putLatency.record(performance.now() - t0);
      return r;
    });
  };
}

const flushMark = { loop: 0, thread: 0 };
let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  clearInterval(sampler);
  // The last window's profile is written before the process goes.
  await switching;
  await broker.shutdown();
  process.exit(0);
}

/** The broker's own CPU profile of one window (inspector), so a profile shows one workload only. */
const inspector = args.profileDir ? new Session() : undefined;
inspector?.connect();
let profiling: string | undefined;
let switching: Promise<void> = Promise.resolve();
const post = (method: string, params?: object): Promise<unknown> =>
  new Promise((resolve, reject) =>
    inspector!.post(method, params, (err, r) => (err ? reject(err) : resolve(r))),
  );
async function switchProfile(next: string | undefined): Promise<void> {
  if (!inspector) return;
  if (profiling) {
    const { profile } = (await post('Profiler.stop')) as { profile: object };
    writeFileSync(join(args.profileDir!, `broker-${profiling}.cpuprofile`), JSON.stringify(profile));
    if (args.allocProfile) {
      const heap = (await post('HeapProfiler.stopSampling')) as { profile: object };
      writeFileSync(join(args.profileDir!, `broker-${profiling}.heapprofile`), JSON.stringify(heap.profile));
    }
  }
  profiling = next;
  if (next) {
    await post('Profiler.enable');
    await post('Profiler.start');
    if (args.allocProfile) {
      // Objects the young generation collects count too: they are what makes scavenges frequent.
      await post('HeapProfiler.enable');
      await post('HeapProfiler.startSampling', {
        samplingInterval: 4096,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
    }
  }
}

process.on('message', (m: { type: string; window?: string }) => {
  if (m.type === 'mark') {
    switching = switchProfile(m.window);
    const cpu = process.cpuUsage(cpuMark);
    const threads = threadCpu.take();
    const mem = process.memoryUsage();
    const rss = mem.rss;
    process.send!({
      type: 'usage',
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      systemCpuSeconds: cpu.system / 1e6,
      mainCpuSeconds: threads.main,
      writerCpuSeconds: threads.later,
      nodeThreadsCpuSeconds: threads.node,
      diskReadMiB: (diskReadBytes() - diskReadMark) / MiB,
      peakRssMiB: Math.max(peakRss, rss) / MiB,
      rssMiB: rss / MiB,
      puts: putLatency.count,
      putP50Ms: putLatency.percentile(0.5),
      putP99Ms: putLatency.percentile(0.99),
      putAvgMs: putLatency.averageMs,
      gets: getLatency.count,
      getP50Ms: getLatency.percentile(0.5),
      getP99Ms: getLatency.percentile(0.99),
      loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
      loopDelayMaxMs: loopDelay.max / 1e6,
      gcMaxMs,
      gcTotalMs,
      heapMiB: mem.heapTotal / MiB,
      loopFlushes: broker.store.flusher.loopFlushes - flushMark.loop,
      threadSyncs: broker.store.flusher.threadSyncs - flushMark.thread,
      arrayBuffersMiB: mem.arrayBuffers / MiB,
    });
    loopDelay.reset();
    gcMaxMs = 0;
    gcTotalMs = 0;
    putLatency.reset();
    getLatency.reset();
    cpuMark = process.cpuUsage();
    diskReadMark = diskReadBytes();
    peakRss = rss;
    flushMark.loop = broker.store.flusher.loopFlushes;
    flushMark.thread = broker.store.flusher.threadSyncs;
  } else if (m.type === 'stop') {
    void stop();
  }
});
process.on('disconnect', () => void stop());
process.send!({ type: 'ready', addr: `127.0.0.1:${broker.port}` });
