/**
 * Remoting benchmark: RPC round trips per second over loopback with 1 and 256 calls in flight
 * (server in a child process, so client and server each have a core), and frames decoded per
 * second from an in-memory buffer. Prints one line per case and, last, one JSON object.
 *   npm run bench:remoting [-- --seconds 5]
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { getLogger } from '../../src/common/logger.js';
import { RemotingServer } from '../../src/remoting/remoting-server.js';
import { RemotingClient } from '../../src/remoting/remoting-client.js';
import { RequestDispatcher } from '../../src/remoting/dispatcher.js';
import { FrameDecoder, encodeFrameToBuffer } from '../../src/remoting/frame-codec.js';
import {
  createRequest,
  createResponse,
  SerializeType,
  type SerializeTypeValue,
} from '../../src/remoting/remoting-command.js';
import { ResponseCode } from '../../src/protocol/response-code.js';

const ECHO = 1000;
const log = getLogger('bench.remoting');
const secondsArg = process.argv.indexOf('--seconds');
const SECONDS = secondsArg > 0 ? Number(process.argv[secondsArg + 1]) : 3;

async function serve(): Promise<void> {
  const dispatcher = new RequestDispatcher(log).register(ECHO, (req) =>
    createResponse(req, ResponseCode.SUCCESS, { extFields: { queueOffset: '1', msgId: 'X' } }),
  );
  const server = new RemotingServer({ port: 0, host: '127.0.0.1', dispatcher, log });
  await server.start();
  process.send!({ port: server.port });
  process.on('disconnect', () => void server.close().then(() => process.exit(0)));
}

function sendLikeHeader(i: number): Record<string, string> {
  return {
    a: 'bench_producer',
    b: 'BenchTopic',
    c: 'TBW102',
    d: '4',
    e: String(i & 3),
    f: '0',
    g: String(Date.now()),
    h: '0',
    i: 'TAGS\u0001TagA',
    j: '0',
    k: 'false',
    m: 'false',
  };
}

async function roundTrips(
  addr: string,
  inFlight: number,
  serializeType: SerializeTypeValue,
  body: Buffer,
): Promise<number> {
  const client = new RemotingClient({ log });
  await client.invoke(addr, createRequest(ECHO));
  let done = 0;
  const deadline = performance.now() + SECONDS * 1000;
  const worker = async (): Promise<void> => {
    let i = 0;
    while (performance.now() < deadline) {
      await client.invoke(addr, createRequest(ECHO, { extFields: sendLikeHeader(i++), body, serializeType }));
      done++;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const rate = done / ((performance.now() - start) / 1000);
  client.close();
  return rate;
}

function decodeRate(serializeType: SerializeTypeValue): number {
  const frames = Array.from({ length: 1000 }, (_, i) =>
    encodeFrameToBuffer(
      createRequest(ECHO, { extFields: sendLikeHeader(i), body: Buffer.alloc(1024, 1), serializeType }),
    ),
  );
  const stream = Buffer.concat(frames);
  const chunks: Buffer[] = [];
  for (let p = 0; p < stream.length; p += 65536) chunks.push(stream.subarray(p, p + 65536));
  let n = 0;
  const start = performance.now();
  const deadline = start + SECONDS * 1000;
  while (performance.now() < deadline) {
    const d = new FrameDecoder();
    for (const c of chunks) d.push(c, () => n++);
  }
  return n / ((performance.now() - start) / 1000);
}

async function main(): Promise<void> {
  const child = fork(new URL(import.meta.url).pathname, ['server'], { execArgv: ['--import', 'tsx'] });
  const [msg] = (await once(child, 'message')) as [{ port: number }];
  const addr = `127.0.0.1:${msg.port}`;
  const results: Record<string, number> = {};
  const body1k = Buffer.alloc(1024, 7);
  const cases: [string, number, SerializeTypeValue, Buffer][] = [
    ['rpc_json_1_inflight', 1, SerializeType.JSON, Buffer.alloc(0)],
    ['rpc_json_256_inflight', 256, SerializeType.JSON, Buffer.alloc(0)],
    ['rpc_json_256_inflight_1k_body', 256, SerializeType.JSON, body1k],
    ['rpc_rocketmq_256_inflight_1k_body', 256, SerializeType.ROCKETMQ, body1k],
  ];
  for (const [name, inFlight, type, body] of cases) {
    results[name] = Math.round(await roundTrips(addr, inFlight, type, body));
    process.stdout.write(`${name.padEnd(36)} ${results[name]!.toLocaleString('en-US')} calls/s\n`);
  }
  for (const [name, type] of [
    ['decode_json_1k_frames', SerializeType.JSON],
    ['decode_rocketmq_1k_frames', SerializeType.ROCKETMQ],
  ] as const) {
    results[name] = Math.round(decodeRate(type));
    process.stdout.write(`${name.padEnd(36)} ${results[name]!.toLocaleString('en-US')} frames/s\n`);
  }
  results.rss_mib = Math.round(process.memoryUsage().rss / 1048576);
  child.disconnect();
  await once(child, 'exit');
  process.stdout.write(JSON.stringify(results) + '\n');
}

if (process.argv[2] === 'server') void serve();
else void main();
