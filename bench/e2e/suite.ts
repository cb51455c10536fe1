/**
 * End-to-end benchmark suite (run through e2e-bench.ts, `npm run bench:e2e`): a fresh NameServer (this process) and broker (a child
 * process, store in a temp dir under /tmp) on 127.0.0.1; every workload's client runs in a child
 * process of its own, on a fresh topic of 8 queues:
 *   A   produce 200,000 x 1 KiB, ASYNC_FLUSH, up to 1000 in flight (mqbench producer code)
 *   A2  the same against a SYNC_FLUSH broker
 *   B   consume 200,000 stored 1 KiB messages (loaded first, not measured; mqbench consumer code)
 *   C   send-to-receive latency at 5,000 msgs/s for 10 s, first second dropped, one process pair
 *   D   produce 200,000 x 100 B
 * Broker CPU seconds and peak RSS are measured per workload (the broker samples itself). Prints
 * progress and one line per workload; the LAST line is one JSON object with every figure.
 *   --only=A,C   workloads to run     --count=N   messages for A/A2/B/D (default 200000)
 *   --batch=N    producers' auto-batch size, 0 = off (default 128)
 *   --report=ms  the mqbench tools' progress interval (default 1000; 100 shows the warm-up)
 *   --out=file   also write the JSON there
 *   --broker=k=v,k=v   extra broker.properties keys for both brokers (explore store settings)
 *   --broker-node=--flag,--flag   extra Node options of the broker process (e.g. V8 heap sizes)
 *   --client-node=--flag,--flag   the same for every client process (e.g. --trace-gc)
 *   --prof=dir   CPU profiles into dir: the broker's per workload (broker-<name>.cpuprofile, the
 *                measured part only) and each client process's (node --cpu-prof)
 *   --alloc      with --prof: also sampled allocations per workload, garbage included, of the broker
 *                (broker-<name>.heapprofile) and of the client's measured part (client-<name>...);
 *                bench/tools/heapprofile-top.ts summarises them
 * Everything it starts is stopped by PID and the temp dir removed, also on failure.
 */
import './quiet-logs.js';
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getLogger } from '../../src/common/logger.js';
import { nettyServerConfigSchema } from '../../src/remoting/netty-server-config.js';
import { createNamesrvConfigSchema } from '../../src/namesrv/namesrv-config.js';
import { NamesrvController } from '../../src/namesrv/namesrv-controller.js';
import { Admin } from '../../src/index.js';
import { BROKER_NODE_FLAGS } from '../../src/cli/node-flags.js';
import { WakeProbe } from './wake-probe.js';
import { cpuLoopMs, pingPongPerSecond } from './machine-speed.js';
import type { ClientArgs, ClientFigures } from './client-child.js';

const argv = process.argv.slice(2);
const arg = (name: string): string | undefined =>
  argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const only = arg('only')?.split(',');
const COUNT = Number(arg('count') ?? 200_000);
const BATCH = Number(arg('batch') ?? 128);
const REPORT_MS = Number(arg('report') ?? 1000);
const brokerNodeArgs = (arg('broker-node') ?? '').split(',').filter(Boolean);
const clientNodeArgs = (arg('client-node') ?? '').split(',').filter(Boolean);
const brokerProps = Object.fromEntries(
  (arg('broker') ?? '')
    .split(',')
    .filter(Boolean)
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);
// Children run as this file does: compiled JavaScript (the default), or TypeScript through tsx.
const compiled = import.meta.url.endsWith('.js');
const here = (f: string): string =>
  fileURLToPath(new URL(compiled ? f.replace(/\.ts$/, '.js') : f, import.meta.url));
const profDir = arg('prof');
if (profDir) mkdirSync(profDir, { recursive: true });
const execArgv = compiled ? [] : ['--import', 'tsx'];
const clientExecArgv = [
  ...execArgv,
  ...clientNodeArgs,
  ...(profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []),
];

interface Usage {
  cpuSeconds: number;
  /** Of cpuSeconds, in the kernel (system calls: sockets, file writes, thread wake-ups). */
  systemCpuSeconds: number;
  /** Of cpuSeconds, by thread (thread-cpu.ts): the event loop, the CommitLog writer, Node's own. */
  mainCpuSeconds: number;
  writerCpuSeconds: number;
  nodeThreadsCpuSeconds: number;
  diskReadMiB: number;
  peakRssMiB: number;
  rssMiB: number;
  puts: number;
  putP50Ms: number;
  putP99Ms: number;
  putAvgMs: number;
  gets: number;
  getP50Ms: number;
  getP99Ms: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  gcMaxMs: number;
  gcTotalMs: number;
  heapMiB: number;
  arrayBuffersMiB: number;
  /** CommitLog fdatasync rounds done by the event loop and by the writer thread. */
  loopFlushes: number;
  threadSyncs: number;
}

const children = new Set<ChildProcess>();
function spawnChild(file: string, arg0: unknown, nodeArgs = execArgv): ChildProcess {
  const child = fork(here(file), [JSON.stringify(arg0)], {
    execArgv: nodeArgs,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Waits for the next IPC message of `type` from `child` (rejects if it exits first). */
function nextMessage<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onMessage = (m: { type: string }): void => {
      if (m.type !== type) return;
      cleanup();
      resolve(m as T);
    };
    const onExit = (code: number | null): void => {
      cleanup();
      reject(new Error(`child exited (${code}) before sending '${type}'`));
    };
    const cleanup = (): void => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

class BrokerProcess {
  private constructor(
    readonly child: ChildProcess,
    readonly addr: string,
  ) {}

  static async start(namesrvAddr: string, dir: string, flushDiskType: string): Promise<BrokerProcess> {
    const child = spawnChild(
      './broker-child.ts',
      {
        namesrvAddr,
        dir,
        flushDiskType,
        profileDir: profDir,
        allocProfile: argv.includes('--alloc'),
        props: brokerProps,
      },
      [...execArgv, ...BROKER_NODE_FLAGS, ...brokerNodeArgs],
    );
    const ready = await nextMessage<{ addr: string }>(child, 'ready');
    return new BrokerProcess(child, ready.addr);
  }

  /** Closes the current measuring window and opens the next (named: profiled); returns the closed one's usage. */
  async mark(window?: string): Promise<Usage> {
    const p = nextMessage<Usage>(this.child, 'usage');
    this.child.send({ type: 'mark', window });
    return p;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.send({ type: 'stop' });
    await exited;
  }
}

async function createTopic(admin: Admin, topic: string): Promise<void> {
  await admin.createTopic(topic, { readQueueNums: 8, writeQueueNums: 8 });
  for (let i = 0; i < 100; i++) {
    const ok = await admin.examineTopicRoute(topic).then(
      (r) => r.queueDatas.length > 0,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no route for ${topic}`);
}

const results: Record<string, number | string | boolean> = {};
const round = (v: number, d = 3): number => Math.round(v * 10 ** d) / 10 ** d;

async function workload(
  broker: BrokerProcess,
  admin: Admin,
  name: string,
  client: Omit<ClientArgs, 'name' | 'topic'>,
): Promise<ClientFigures> {
  const topic = `Bench${name}_${Date.now()}`;
  results[`${name}_machine_cpu_loop_ms`] = cpuLoopMs();
  results[`${name}_machine_loopback_round_trips_per_s`] = await pingPongPerSecond();
  await createTopic(admin, topic);
  await broker.mark(client.kind === 'consume' ? undefined : name);
  const allocProfile =
    profDir && argv.includes('--alloc') ? join(profDir, `client-${name}.heapprofile`) : undefined;
  const child = spawnChild('./client-child.ts', { ...client, name, topic, allocProfile }, clientExecArgv);
  if (client.kind === 'consume') {
    await nextMessage(child, 'phase');
    await broker.mark(name);
    child.send({ type: 'go' });
  }
  const { figures } = await nextMessage<{ figures: ClientFigures }>(child, 'result');
  const usage = await broker.mark();
  if (child.exitCode === null) await once(child, 'exit');
  results[`${name}_broker_cpu_s`] = round(usage.cpuSeconds);
  results[`${name}_broker_sys_cpu_s`] = round(usage.systemCpuSeconds);
  results[`${name}_broker_cpu_loop_thread_s`] = round(usage.mainCpuSeconds);
  results[`${name}_broker_cpu_writer_thread_s`] = round(usage.writerCpuSeconds);
  results[`${name}_broker_cpu_node_threads_s`] = round(usage.nodeThreadsCpuSeconds);
  results[`${name}_broker_disk_read_mib`] = Math.round(usage.diskReadMiB);
  results[`${name}_broker_peak_rss_mib`] = Math.round(usage.peakRssMiB);
  results[`${name}_client_cpu_s`] = round(figures.clientCpuS);
  results[`${name}_client_cpu_loop_thread_s`] = round(figures.threads.main);
  results[`${name}_client_cpu_node_threads_s`] = round(figures.threads.node);
  if (usage.puts > 0) {
    results[`${name}_store_put_p50_ms`] = round(usage.putP50Ms);
    results[`${name}_store_put_p99_ms`] = round(usage.putP99Ms);
  }
  if (usage.gets > 0) {
    results[`${name}_store_get_p50_ms`] = round(usage.getP50Ms);
    results[`${name}_store_get_p99_ms`] = round(usage.getP99Ms);
    results[`${name}_pulls_found`] = usage.gets;
  }
  if (usage.threadSyncs + usage.loopFlushes > 0) {
    results[`${name}_fdatasync_rounds_thread`] = usage.threadSyncs;
    results[`${name}_fdatasync_rounds_loop`] = usage.loopFlushes;
  }
  results[`${name}_broker_loop_delay_p99_ms`] = round(usage.loopDelayP99Ms);
  results[`${name}_broker_loop_delay_max_ms`] = round(usage.loopDelayMaxMs);
  results[`${name}_broker_gc_max_ms`] = round(usage.gcMaxMs);
  results[`${name}_broker_gc_total_ms`] = round(usage.gcTotalMs);
  // At the end of the workload: the JS heap and the memory held by Buffers / ArrayBuffers.
  results[`${name}_broker_heap_mib`] = Math.round(usage.heapMiB);
  results[`${name}_broker_array_buffers_mib`] = Math.round(usage.arrayBuffersMiB);
  results.broker_rss_mib = Math.max(Number(results.broker_rss_mib ?? 0), Math.round(usage.peakRssMiB));
  return figures;
}

async function main(): Promise<void> {
  const want = (w: string): boolean => !only || only.includes(w);
  const dir = mkdtempSync(join(tmpdir(), 'rmq-e2e-bench-'));
  // Stopped from outside (Ctrl-C, npm run bench's time limit): stop what we started, by PID.
  const abort = (): void => {
    for (const c of children) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    process.stderr.write('e2e bench interrupted\n');
    process.exit(130);
  };
  process.once('SIGINT', abort);
  process.once('SIGTERM', abort);
  const load0 = loadavg()[0]!;
  const namesrvSchema = createNamesrvConfigSchema();
  const namesrvConfig = namesrvSchema.defaults();
  namesrvConfig.kvConfigPath = join(dir, 'namesrv', 'kvConfig.json');
  const serverConfig = nettyServerConfigSchema.defaults();
  serverConfig.listenPort = 0;
  serverConfig.bindAddress = '127.0.0.1';
  const namesrv = new NamesrvController({
    namesrvConfig,
    namesrvSchema,
    serverConfig,
    log: getLogger('bench.namesrv'),
  });
  await namesrv.start();
  const namesrvAddr = `127.0.0.1:${namesrv.port}`;
  const admin = new Admin({ namesrvAddr, instanceName: `bench-admin-${process.pid}` });
  await admin.start();
  const base = {
    namesrvAddr,
    count: COUNT,
    inFlight: 1000,
    autoBatch: BATCH > 0 ? BATCH : (false as const),
    reportMs: REPORT_MS,
  };
  const say = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  try {
    say(
      `e2e bench: ${COUNT} messages per workload, auto-batch ${BATCH || 'off'}, load ${load0.toFixed(2)}, data in ${dir}`,
    );
    let broker = await BrokerProcess.start(namesrvAddr, join(dir, 'async'), 'ASYNC_FLUSH');
    try {
      for (const [name, size] of [
        ['A', 1024],
        ['D', 100],
      ] as const) {
        if (!want(name)) continue;
        const f = (await workload(broker, admin, name, { ...base, kind: 'produce', size })) as {
          tps: number;
          sendOk: number;
        };
        results[`${name}_msgs`] = f.tps;
        say(`${name}: ${f.tps} msgs/s (${f.sendOk} x ${size} B sent)`);
      }
      if (want('B')) {
        const f = (await workload(broker, admin, 'B', { ...base, kind: 'consume', size: 1024 })) as {
          tps: number;
          activeTps: number;
          consumed: number;
        };
        results.B_msgs = f.tps;
        results.B_active_msgs = f.activeTps;
        say(
          `B: ${f.tps} msgs/s consumed (${f.consumed}; ${f.activeTps}/s from the first message to the last)`,
        );
      }
      if (want('C')) {
        const probe = new WakeProbe();
        const f = (await workload(broker, admin, 'C', {
          ...base,
          kind: 'latency',
          size: 1024,
          rate: 5000,
          seconds: 10,
        })) as {
          p50Ms: number;
          p99Ms: number;
          p999Ms: number;
          maxMs: number;
          samples: number;
          achievedRate: number;
          received: number;
          sent: number;
          bornToStoreP99Ms: number;
          storeToConsumeP99Ms: number;
          loopDelayP99Ms: number;
          loopDelayMaxMs: number;
          gcMaxMs: number;
          gcTotalMs: number;
        };
        const wake = await probe.stop();
        Object.assign(results, {
          C_p50_ms: f.p50Ms,
          C_p99_ms: f.p99Ms,
          C_p999_ms: f.p999Ms,
          C_max_ms: f.maxMs,
          C_samples: f.samples,
          C_rate: f.achievedRate,
          C_lost: f.sent - f.received,
          C_born_to_store_p99_ms: f.bornToStoreP99Ms,
          C_store_to_consume_p99_ms: f.storeToConsumeP99Ms,
          C_client_loop_delay_p99_ms: f.loopDelayP99Ms,
          C_client_loop_delay_max_ms: f.loopDelayMaxMs,
          C_client_gc_max_ms: f.gcMaxMs,
          C_client_gc_total_ms: f.gcTotalMs,
          C_machine_wake_late_p99_ms: wake.p99Ms,
          C_machine_wake_late_p999_ms: wake.p999Ms,
          C_machine_wake_late_max_ms: wake.maxMs,
          C_machine_wake_late_over_1ms: wake.overOneMs,
          C_machine_wake_samples: wake.samples,
        });
        say(
          `C: p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms, p99.9 ${f.p999Ms} ms (${f.samples} samples at ${f.achievedRate}/s)`,
        );
        say(
          `C: meanwhile a thread sleeping 1 ms woke late by p99 ${wake.p99Ms} ms, p99.9 ${wake.p999Ms} ms, ` +
            `max ${wake.maxMs} ms (${wake.overOneMs} of ${wake.samples} sleeps over 1 ms late)`,
        );
      }
    } finally {
      await broker.stop();
    }
    if (want('A2')) {
      broker = await BrokerProcess.start(namesrvAddr, join(dir, 'sync'), 'SYNC_FLUSH');
      try {
        const f = (await workload(broker, admin, 'A2', { ...base, kind: 'produce', size: 1024 })) as {
          tps: number;
          sendOk: number;
        };
        results.A2_msgs = f.tps;
        say(`A2: ${f.tps} msgs/s (SYNC_FLUSH, ${f.sendOk} x 1024 B sent)`);
      } finally {
        await broker.stop();
      }
    }
  } finally {
    await admin.shutdown().catch(() => undefined);
    for (const c of children) c.kill('SIGKILL');
    await namesrv.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
  Object.assign(results, {
    runtime: compiled ? 'compiled' : 'tsx',
    ...(Object.keys(brokerProps).length > 0 ? { broker_props: JSON.stringify(brokerProps) } : {}),
    broker_node_args: [...BROKER_NODE_FLAGS, ...brokerNodeArgs].join(' '),
    auto_batch: BATCH > 0 ? BATCH : false,
    in_flight: 1000,
    count: COUNT,
    node: process.version,
    cpus: cpus().length,
    loadavg_start: round(load0, 2),
    loadavg_end: round(loadavg()[0]!, 2),
  });
  const line = JSON.stringify(results);
  const out = arg('out');
  if (out) writeFileSync(out, line + '\n');
  process.stdout.write(line + '\n');
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`e2e bench failed: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
