import { test, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { getLogger } from '../../src/common/logger.js';
import { RmqError } from '../../src/common/errors.js';
import { RemotingServer } from '../../src/remoting/remoting-server.js';
import { RemotingClient } from '../../src/remoting/remoting-client.js';
import { RequestDispatcher } from '../../src/remoting/dispatcher.js';
import { FrameDecoder, encodeFrameToBuffer } from '../../src/remoting/frame-codec.js';
import {
  createRequest,
  createResponse,
  SerializeType,
  type RemotingCommand,
} from '../../src/remoting/remoting-command.js';
import { ResponseCode } from '../../src/protocol/response-code.js';
import { waitFor } from '../helpers/wait.js';

const log = getLogger('test.remoting');
const ECHO = 1000;
const FAIL = 1001;
const SLOW = 1002;
const COUNT = 1003;

let onewayCount = 0;
const dispatcher = new RequestDispatcher(log)
  .register(ECHO, (req) =>
    createResponse(req, ResponseCode.SUCCESS, { extFields: req.extFields, body: req.body }),
  )
  .register(FAIL, () => {
    throw new Error('handler exploded');
  })
  .register(SLOW, async (req) => {
    await sleep(Number(req.extFields?.ms ?? 0));
    return createResponse(req, ResponseCode.SUCCESS);
  })
  .register(COUNT, (req) => {
    onewayCount++;
    return createResponse(req, ResponseCode.SUCCESS);
  })
  .registerUnsupported(999, 'not served here');

async function startServer(idleTimeoutMs?: number): Promise<RemotingServer> {
  const server = new RemotingServer({ port: 0, host: '127.0.0.1', dispatcher, log, idleTimeoutMs });
  await server.start();
  after(() => server.close());
  return server;
}

function newClient(clientDispatcher?: RequestDispatcher): RemotingClient {
  const client = new RemotingClient({ log, dispatcher: clientDispatcher });
  after(() => client.close());
  return client;
}

/** A raw socket that collects decoded commands. */
async function rawSocket(port: number): Promise<{ socket: Socket; received: RemotingCommand[] }> {
  const socket = connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  const received: RemotingCommand[] = [];
  const decoder = new FrameDecoder();
  socket.on('data', (chunk: Buffer) => decoder.push(chunk, (c) => received.push(c)));
  socket.on('error', () => {});
  after(() => socket.destroy());
  return { socket, received };
}

describe('RemotingServer and RemotingClient over loopback', async () => {
  const server = await startServer();
  const addr = `127.0.0.1:${server.port}`;

  test('request/response round trip with header and body, both serializations', async () => {
    const client = newClient();
    for (const serializeType of [SerializeType.JSON, SerializeType.ROCKETMQ]) {
      const req = createRequest(ECHO, {
        extFields: { topic: 'T', queueId: '3' },
        body: Buffer.from('abc'),
        serializeType,
      });
      const res = await client.invoke(addr, req);
      assert.equal(res.code, ResponseCode.SUCCESS);
      assert.equal(res.opaque, req.opaque);
      assert.equal(res.serializeType, serializeType, 'response mirrors the request serialization');
      assert.deepEqual(res.extFields, { topic: 'T', queueId: '3' });
      assert.deepEqual(res.body, Buffer.from('abc'));
    }
  });

  test('unknown and unsupported codes answer REQUEST_CODE_NOT_SUPPORTED naming the code', async () => {
    const client = newClient();
    const res = await client.invoke(addr, createRequest(4242));
    assert.equal(res.code, ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
    assert.match(res.remark ?? '', /request type 4242 not supported/);
    const res2 = await client.invoke(addr, createRequest(999));
    assert.equal(res2.code, ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
    assert.match(res2.remark ?? '', /999 not supported: not served here/);
  });

  test('a throwing handler answers SYSTEM_ERROR with its message', async () => {
    const client = newClient();
    const res = await client.invoke(addr, createRequest(FAIL));
    assert.equal(res.code, ResponseCode.SYSTEM_ERROR);
    assert.equal(res.remark, 'handler exploded');
  });

  test('oneway requests get no reply', async () => {
    const { socket, received } = await rawSocket(server.port);
    const before = onewayCount;
    socket.write(encodeFrameToBuffer(createRequest(COUNT, { oneway: true })));
    socket.write(encodeFrameToBuffer(createRequest(4242, { oneway: true })));
    const probe = createRequest(ECHO);
    socket.write(encodeFrameToBuffer(probe));
    await waitFor(() => received.length >= 1, 'probe response');
    await sleep(50);
    assert.equal(onewayCount, before + 1, 'oneway handler ran');
    assert.deepEqual(
      received.map((c) => c.opaque),
      [probe.opaque],
      'only the normal request was answered',
    );
  });

  test('a malformed frame closes that connection only; others keep being served', async () => {
    const client = newClient();
    const { socket } = await rawSocket(server.port);
    await waitFor(() => server.channels.size >= 2, 'two connections');
    const closed = once(socket, 'close');
    socket.write(Buffer.from('ffffffff00000000', 'hex'));
    await closed;
    const res = await client.invoke(addr, createRequest(ECHO, { body: Buffer.from('still here') }));
    assert.deepEqual(res.body, Buffer.from('still here'));

    const { socket: s2 } = await rawSocket(server.port);
    const closed2 = once(s2, 'close');
    const junk = Buffer.from('{not json');
    const frame = Buffer.alloc(8 + junk.length);
    frame.writeInt32BE(4 + junk.length, 0);
    frame.writeInt32BE(junk.length, 4);
    junk.copy(frame, 8);
    s2.write(frame);
    await closed2;
    assert.equal((await client.invoke(addr, createRequest(ECHO))).code, ResponseCode.SUCCESS);
  });

  test('a call with no answer times out with a typed error and leaves no pending entry', async () => {
    const client = newClient();
    await assert.rejects(
      client.invoke(addr, createRequest(SLOW, { extFields: { ms: '500' } }), 100),
      (err: unknown) =>
        err instanceof RmqError &&
        err.code === 'RMQ_REMOTING_TIMEOUT' &&
        /no response within 100 ms/.test(err.message),
    );
    assert.equal(client.pendingCalls, 0);
    // Later calls on the same connection still work; the late response is dropped.
    const res = await client.invoke(addr, createRequest(SLOW, { extFields: { ms: '0' } }));
    assert.equal(res.code, ResponseCode.SUCCESS);
  });

  test('many calls in flight complete; mixed timeouts expire independently', async () => {
    const client = newClient();
    const calls = Array.from({ length: 500 }, (_, i) =>
      client.invoke(addr, createRequest(ECHO, { extFields: { i: String(i) } })),
    );
    const slow = client
      .invoke(addr, createRequest(SLOW, { extFields: { ms: '400' } }), 150)
      .catch((e: unknown) => e);
    const results = await Promise.all(calls);
    results.forEach((r, i) => assert.equal(r.extFields?.i, String(i)));
    assert.ok((await slow) instanceof RmqError);
  });

  test('invokeCallback: answers, timeouts and a closed connection arrive through the callback, never synchronously', async () => {
    const client = newClient();
    const call = (req: ReturnType<typeof createRequest>, timeoutMs: number) =>
      new Promise<{ err?: Error; res?: { extFields?: Record<string, string> } }>((resolve) => {
        let returned = false;
        client.invokeCallback(addr, req, timeoutMs, (err, res) => {
          assert.ok(returned, 'called after invokeCallback returned');
          resolve({ err, res });
        });
        returned = true;
      });
    const ok = await call(createRequest(ECHO, { extFields: { i: '7' } }), 1000);
    assert.equal(ok.err, undefined);
    assert.equal(ok.res?.extFields?.i, '7');
    const late = await call(createRequest(SLOW, { extFields: { ms: '300' } }), 50);
    assert.ok(late.err instanceof RmqError && late.err.code === 'RMQ_REMOTING_TIMEOUT');
    const pending = call(createRequest(SLOW, { extFields: { ms: '2000' } }), 5000);
    await sleep(20);
    for (const ch of server.channels) ch.close();
    const closed = await pending;
    assert.ok(closed.err instanceof RmqError && closed.err.code === 'RMQ_REMOTING_CLOSED');
    const refused = await new Promise<Error | undefined>((resolve) =>
      client.invokeCallback('127.0.0.1:1', createRequest(ECHO), 1000, (err) => resolve(err)),
    );
    assert.ok(refused instanceof RmqError && refused.code === 'RMQ_REMOTING_CONNECT');
  });

  test('the client reconnects after its connection dropped', async () => {
    const client = newClient();
    assert.equal((await client.invoke(addr, createRequest(ECHO))).code, ResponseCode.SUCCESS);
    const peers = [...server.channels];
    for (const ch of peers) ch.close();
    await waitFor(() => server.channels.size === 0, 'server side closed');
    const res = await client.invoke(addr, createRequest(ECHO));
    assert.equal(res.code, ResponseCode.SUCCESS);
  });

  test('pending calls fail at once when the connection closes', async () => {
    const client = newClient();
    await client.invoke(addr, createRequest(ECHO));
    const pending = client.invoke(addr, createRequest(SLOW, { extFields: { ms: '2000' } }), 5000);
    await sleep(20);
    for (const ch of server.channels) ch.close();
    await assert.rejects(
      pending,
      (err: unknown) => err instanceof RmqError && err.code === 'RMQ_REMOTING_CLOSED',
    );
  });

  test('connect failure is a typed retriable error', async () => {
    const client = newClient();
    const probe = await startServer();
    const port = probe.port;
    await probe.close();
    await assert.rejects(client.invoke(`127.0.0.1:${port}`, createRequest(ECHO)), (err: unknown) => {
      return err instanceof RmqError && err.code === 'RMQ_REMOTING_CONNECT' && err.retriable;
    });
  });

  test('server-initiated requests reach the client dispatcher and its answer comes back', async () => {
    const clientDispatcher = new RequestDispatcher(log).register(40, (req) =>
      createResponse(req, ResponseCode.SUCCESS, { remark: `got ${req.extFields?.consumerGroup}` }),
    );
    const client = newClient(clientDispatcher);
    await client.invoke(addr, createRequest(ECHO));
    const channel = [...server.channels].at(-1)!;
    const res = await server.invoke(channel, createRequest(40, { extFields: { consumerGroup: 'G1' } }), 2000);
    assert.equal(res.remark, 'got G1');
  });
});

test('connections idle past the limit are closed by the server', async () => {
  const server = await startServer(200);
  const { socket } = await rawSocket(server.port);
  const closed = once(socket, 'close');
  await closed;
  await waitFor(() => server.channels.size === 0, 'server forgot the idle connection');
});

test('a peer that never reads its responses is paused instead of buffering without bound', async () => {
  const bigDispatcher = new RequestDispatcher(log).register(ECHO, (req) =>
    createResponse(req, ResponseCode.SUCCESS, { body: Buffer.alloc(256 * 1024) }),
  );
  const server = new RemotingServer({
    port: 0,
    host: '127.0.0.1',
    dispatcher: bigDispatcher,
    log,
    highWaterMark: 1024 * 1024,
  });
  await server.start();
  after(() => server.close());
  const socket = connect({ host: '127.0.0.1', port: server.port });
  after(() => socket.destroy());
  await once(socket, 'connect');
  socket.pause(); // never read
  const frame = encodeFrameToBuffer(createRequest(ECHO));
  // Send requests worth 2 GiB of responses; the server must stop reading long before that.
  for (let i = 0; i < 8192; i++) socket.write(frame);
  await sleep(500);
  const channel = [...server.channels][0]!;
  const queued = channel.socket.writableLength;
  assert.ok(queued < 64 * 1024 * 1024, `server queued ${queued} bytes for a peer that does not read`);
  assert.ok(channel.socket.isPaused(), 'server stopped reading from the congested peer');
});
