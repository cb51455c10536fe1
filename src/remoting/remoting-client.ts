/**
 * Client side of the remoting protocol: one connection per `host:port`, opened on first use and
 * again after it dropped. Calls wait for their response by opaque with a per-call timeout;
 * requests the server sends us (NOTIFY_CONSUMER_IDS_CHANGED, CHECK_TRANSACTION_STATE, ...) go to
 * the client's own dispatcher. A caller whose connection is congested waits for it to drain.
 */
import { connect, type Socket } from 'node:net';
import { EventEmitter } from 'node:events';
import { RmqError, ErrorCode, errorMessage } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import { parseSocketAddr } from '../common/socket-address.js';
import { Channel, DEFAULT_HIGH_WATER_MARK } from './channel.js';
import type { RequestDispatcher } from './dispatcher.js';
import { isResponse, RPC_ONEWAY, type RemotingCommand } from './remoting-command.js';
import { ResponseTable, type ResponseCallback } from './response-table.js';

export interface RemotingClientOptions {
  log: Logger;
  /** Handles requests servers send to this client; without one they answer not-supported. */
  dispatcher?: RequestDispatcher;
  connectTimeoutMs?: number;
  highWaterMark?: number;
  maxFrameLength?: number;
}

export interface RemotingClientEvents {
  /** A connection to `addr` closed (the address, as callers passed it). */
  disconnect: [string];
}

export const DEFAULT_CALL_TIMEOUT_MS = 3000;

export class RemotingClient extends EventEmitter<RemotingClientEvents> {
  private readonly ready = new Map<string, Channel>();
  private readonly connecting = new Map<string, Promise<Channel>>();
  private readonly responses = new ResponseTable();
  private closed = false;

  constructor(private readonly options: RemotingClientOptions) {
    super();
  }

  /** Sends a request and resolves with the response (whatever its code). */
  invoke(
    addr: string,
    request: RemotingCommand,
    timeoutMs = DEFAULT_CALL_TIMEOUT_MS,
  ): Promise<RemotingCommand> {
    const ch = this.ready.get(addr);
    if (ch && !ch.isClosed && !ch.congested) return this.send(ch, addr, request, timeoutMs);
    return this.getChannel(addr).then(async (c) => {
      await c.waitForDrain();
      return this.send(c, addr, request, timeoutMs);
    });
  }

  /**
   * `invoke` without a promise: `done` gets the response (whatever its code) or the error, always
   * after this call returns. The path of pipelined producers, where promises per call add up.
   */
  invokeCallback(addr: string, request: RemotingCommand, timeoutMs: number, done: ResponseCallback): void {
    const ch = this.ready.get(addr);
    if (ch && !ch.isClosed && !ch.congested) {
      this.sendCallback(ch, addr, request, timeoutMs, done);
      return;
    }
    this.getChannel(addr)
      .then(async (c) => {
        await c.waitForDrain();
        this.sendCallback(c, addr, request, timeoutMs, done);
      })
      .catch((err: unknown) => done(err instanceof Error ? err : new Error(errorMessage(err)), undefined));
  }

  private sendCallback(
    ch: Channel,
    addr: string,
    request: RemotingCommand,
    timeoutMs: number,
    done: ResponseCallback,
  ): void {
    let failure: Error | undefined;
    try {
      if (!ch.write(request)) {
        failure = new RmqError(ErrorCode.REMOTING_CLOSED, `connection to ${addr} is closed`, {
          retriable: true,
        });
      }
    } catch (err) {
      failure = err instanceof Error ? err : new Error(errorMessage(err));
    }
    if (failure) {
      const err = failure;
      process.nextTick(() => done(err, undefined));
      return;
    }
    // Registered after the write: a write does not send before this tick ends.
    this.responses.addCallback(request.opaque, timeoutMs, ch.id, request.code, addr, done);
  }

  private send(
    ch: Channel,
    addr: string,
    request: RemotingCommand,
    timeoutMs: number,
  ): Promise<RemotingCommand> {
    const pending = this.responses.add(request.opaque, timeoutMs, ch.id, request.code, addr);
    let written: boolean;
    try {
      written = ch.write(request);
    } catch (err) {
      this.responses.fail(request.opaque, err instanceof Error ? err : new Error(errorMessage(err)));
      return pending;
    }
    if (!written) {
      this.responses.fail(
        request.opaque,
        new RmqError(ErrorCode.REMOTING_CLOSED, `connection to ${addr} is closed`, { retriable: true }),
      );
    }
    return pending;
  }

  /** Sends a request with the oneway bit; resolves once it is queued on the socket. */
  async invokeOneway(addr: string, request: RemotingCommand): Promise<void> {
    request.flag |= RPC_ONEWAY;
    const ch = await this.getChannel(addr);
    await ch.waitForDrain();
    if (!ch.write(request)) {
      throw new RmqError(ErrorCode.REMOTING_CLOSED, `connection to ${addr} is closed`, { retriable: true });
    }
  }

  /** The open connection to `addr`, connecting if needed. */
  getChannel(addr: string): Promise<Channel> {
    if (this.closed) {
      return Promise.reject(new RmqError(ErrorCode.CLIENT_STATE, 'remoting client is closed'));
    }
    const ch = this.ready.get(addr);
    if (ch && !ch.isClosed) return Promise.resolve(ch);
    let p = this.connecting.get(addr);
    if (!p) {
      p = this.open(addr).finally(() => this.connecting.delete(addr));
      this.connecting.set(addr, p);
    }
    return p;
  }

  private open(addr: string): Promise<Channel> {
    let target: { host: string; port: number };
    try {
      target = parseSocketAddr(addr);
    } catch (err) {
      return Promise.reject(err);
    }
    const timeoutMs = this.options.connectTimeoutMs ?? 3000;
    return new Promise<Channel>((resolve, reject) => {
      const socket: Socket = connect({ host: target.host, port: target.port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(
          new RmqError(ErrorCode.REMOTING_CONNECT, `connect to ${addr} timed out after ${timeoutMs} ms`, {
            retriable: true,
          }),
        );
      }, timeoutMs);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(
          new RmqError(ErrorCode.REMOTING_CONNECT, `connect to ${addr} failed: ${err.message}`, {
            retriable: true,
            cause: err,
          }),
        );
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        if (this.closed) {
          socket.destroy();
          reject(new RmqError(ErrorCode.CLIENT_STATE, 'remoting client is closed'));
          return;
        }
        resolve(this.attach(addr, socket));
      });
    });
  }

  private attach(addr: string, socket: Socket): Channel {
    const ch = new Channel(
      socket,
      this.options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK,
      this.options.maxFrameLength,
    );
    this.ready.set(addr, ch);
    ch.on('command', (cmd) => this.onCommand(ch, cmd));
    ch.on('failure', (err) => this.options.log.warn({ peer: addr, err: err.message }, 'connection failed'));
    ch.on('close', () => {
      if (this.ready.get(addr) === ch) this.ready.delete(addr);
      this.responses.failOwner(
        ch.id,
        (what) => new RmqError(ErrorCode.REMOTING_CLOSED, `${what}: connection closed`, { retriable: true }),
      );
      this.emit('disconnect', addr);
    });
    return ch;
  }

  private onCommand(ch: Channel, cmd: RemotingCommand): void {
    if (isResponse(cmd)) {
      this.responses.complete(cmd);
      return;
    }
    if (this.options.dispatcher) {
      this.options.dispatcher.dispatch(cmd, ch);
    } else {
      this.options.log.debug({ code: cmd.code }, 'request from server ignored: no dispatcher');
    }
  }

  /** Closes the connection to `addr`; the next call reconnects. */
  closeChannel(addr: string): void {
    this.ready.get(addr)?.close();
  }

  /** Number of calls waiting for a response. */
  get pendingCalls(): number {
    return this.responses.size;
  }

  close(): void {
    this.closed = true;
    for (const ch of this.ready.values()) ch.close();
    this.ready.clear();
    this.responses.failAll((what) => new RmqError(ErrorCode.REMOTING_CLOSED, `${what}: client closed`));
  }
}
