/**
 * TCP server for RemotingCommands. Requests go through the dispatcher; responses to requests the
 * server itself sent (e.g. GET_CONSUMER_RUNNING_INFO to a client) complete its response table.
 * A malformed frame closes only that connection; connections idle for `idleTimeoutMs` (upstream:
 * 120 s without reads or writes) are closed; a peer that does not read its responses stops being
 * read from until its queue drains.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { EventEmitter } from 'node:events';
import { RmqError, ErrorCode } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import { Channel, DEFAULT_HIGH_WATER_MARK } from './channel.js';
import type { RequestDispatcher } from './dispatcher.js';
import {
  createResponse,
  isOneway,
  isResponse,
  type RemotingCommand,
  RPC_ONEWAY,
} from './remoting-command.js';
import { ResponseCode } from '../protocol/response-code.js';
import { ResponseTable } from './response-table.js';

export interface RemotingServerOptions {
  port: number;
  /** Address to bind; upstream binds every interface. Tests pass 127.0.0.1. */
  host?: string;
  dispatcher: RequestDispatcher;
  log: Logger;
  idleTimeoutMs?: number;
  highWaterMark?: number;
  maxFrameLength?: number;
}

export interface RemotingServerEvents {
  connect: [Channel];
  disconnect: [Channel];
}

export class RemotingServer extends EventEmitter<RemotingServerEvents> {
  private readonly server: Server;
  private readonly live = new Set<Channel>();
  private readonly responses = new ResponseTable();
  /** While set, requests are answered SYSTEM_BUSY with this remark (start-up, shutdown). */
  private notServingReason: string | undefined;
  /** Requests read from a congested peer, dispatched once its responses drained. */
  private readonly backlogs = new Map<Channel, RemotingCommand[]>();
  private readonly log: Logger;

  constructor(private readonly options: RemotingServerOptions) {
    super();
    this.log = options.log;
    this.server = createServer((socket) => this.accept(socket));
    this.server.on('error', (err) => this.log.error({ err }, 'server socket error'));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
  }

  /** The bound port (useful with port 0). */
  get port(): number {
    const addr = this.server.address();
    return typeof addr === 'object' && addr ? addr.port : this.options.port;
  }

  get channels(): ReadonlySet<Channel> {
    return this.live;
  }

  private accept(socket: Socket): void {
    const channel = new Channel(
      socket,
      this.options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK,
      this.options.maxFrameLength,
    );
    this.live.add(channel);
    const idle = this.options.idleTimeoutMs ?? 120_000;
    if (idle > 0) {
      socket.setTimeout(idle, () => {
        this.log.info({ peer: channel.remoteAddress }, `closing connection idle for ${idle} ms`);
        channel.close();
      });
    }
    channel.on('command', (cmd) => this.onCommand(channel, cmd));
    channel.on('failure', (err) => {
      if (err instanceof RmqError && err.code === ErrorCode.FRAME_INVALID) {
        this.log.warn(
          { peer: channel.remoteAddress, reason: err.message },
          'malformed frame, closing connection',
        );
      } else {
        this.log.debug({ peer: channel.remoteAddress, err }, 'connection error');
      }
    });
    channel.on('close', () => {
      this.live.delete(channel);
      this.backlogs.delete(channel);
      this.responses.failOwner(
        channel.id,
        (what) => new RmqError(ErrorCode.REMOTING_CLOSED, `${what}: connection closed`, { retriable: true }),
      );
      this.emit('disconnect', channel);
    });
    this.emit('connect', channel);
  }

  private onCommand(channel: Channel, cmd: RemotingCommand): void {
    if (isResponse(cmd)) {
      this.responses.complete(cmd);
      return;
    }
    if (this.notServingReason !== undefined) {
      if (!isOneway(cmd)) {
        channel.write(createResponse(cmd, ResponseCode.SYSTEM_BUSY, { remark: this.notServingReason }));
      }
      return;
    }
    const backlog = this.backlogs.get(channel);
    if (backlog) {
      backlog.push(cmd);
      return;
    }
    if (channel.congested) {
      // One chunk can hold hundreds of requests: hold the rest instead of answering them now.
      this.backlogs.set(channel, [cmd]);
      channel.pauseReading();
      void channel.waitForDrain().then(() => this.drainBacklog(channel));
      return;
    }
    this.options.dispatcher.dispatch(cmd, channel);
  }

  private drainBacklog(channel: Channel): void {
    const backlog = this.backlogs.get(channel);
    if (!backlog) return;
    while (backlog.length > 0) {
      if (channel.isClosed) {
        this.backlogs.delete(channel);
        return;
      }
      if (channel.congested) {
        void channel.waitForDrain().then(() => this.drainBacklog(channel));
        return;
      }
      this.options.dispatcher.dispatch(backlog.shift()!, channel);
    }
    this.backlogs.delete(channel);
    channel.resumeReading();
  }

  /** Stops (with a reason) or resumes serving requests; connections stay open. */
  setNotServing(reason: string | undefined): void {
    this.notServingReason = reason;
  }

  /** Sends a request to a connected peer and waits for its response. */
  invoke(channel: Channel, request: RemotingCommand, timeoutMs: number): Promise<RemotingCommand> {
    const pending = this.responses.add(
      request.opaque,
      timeoutMs,
      channel.id,
      request.code,
      channel.remoteAddress,
    );
    if (!channel.write(request)) {
      this.responses.fail(
        request.opaque,
        new RmqError(ErrorCode.REMOTING_CLOSED, `connection to ${channel.remoteAddress} is closed`),
      );
    }
    return pending;
  }

  /** Sends a oneway request (flag bit set here); false when the channel is closed. */
  invokeOneway(channel: Channel, request: RemotingCommand): boolean {
    request.flag |= RPC_ONEWAY;
    return channel.write(request);
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const ch of this.live) ch.close();
    this.responses.failAll((what) => new RmqError(ErrorCode.REMOTING_CLOSED, `${what}: server shut down`));
    await closed;
  }
}
