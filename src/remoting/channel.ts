/**
 * One TCP connection carrying RemotingCommands, used by both server and client.
 * Commands written in the same tick are encoded back to back into one buffer (FrameSink) and leave
 * in one socket write at the end of the tick: per-write costs in Node's stream machinery dwarf
 * copying small bodies. When the kernel send buffer and Node's queue hold more than
 * `highWaterMark` bytes the channel reports itself congested: the server stops reading from that
 * peer, the client makes callers wait for 'drain', so nothing buffers without bound.
 */
import type { Socket } from 'node:net';
import { EventEmitter } from 'node:events';
import { FrameDecoder, FrameSink } from './frame-codec.js';
import type { RemotingCommand } from './remoting-command.js';
import { normalizeHost } from '../common/socket-address.js';
import { errorMessage } from '../common/errors.js';

export const DEFAULT_HIGH_WATER_MARK = 8 * 1024 * 1024;

let channelIds = 0;

export interface ChannelEvents {
  command: [RemotingCommand];
  /** A malformed frame or socket error; the channel is closed right after. */
  failure: [Error];
  close: [];
  drain: [];
}

export class Channel extends EventEmitter<ChannelEvents> {
  readonly id = ++channelIds;
  /** `ip:port` of the peer, IPv4 peers without the ::ffff: prefix. */
  readonly remoteAddress: string;
  readonly remoteHost: string;
  readonly remotePort: number;
  private readonly decoder: FrameDecoder;
  private readonly sink = new FrameSink();
  private flushScheduled = false;
  private drained: Promise<void> | undefined;
  private closed = false;
  /** Last read or write, ms since epoch; for idle checks. */
  lastActivity = Date.now();

  constructor(
    readonly socket: Socket,
    readonly highWaterMark = DEFAULT_HIGH_WATER_MARK,
    maxFrameLength?: number,
  ) {
    super();
    this.decoder = new FrameDecoder(maxFrameLength);
    this.remoteHost = normalizeHost(socket.remoteAddress ?? '0.0.0.0');
    this.remotePort = socket.remotePort ?? 0;
    this.remoteAddress = this.remoteHost.includes(':')
      ? `[${this.remoteHost}]:${this.remotePort}`
      : `${this.remoteHost}:${this.remotePort}`;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.emit('drain'));
    socket.on('error', (err) => {
      if (!this.closed) this.emit('failure', err);
      this.close();
    });
    socket.on('close', () => {
      this.closed = true;
      this.emit('close');
    });
  }

  private onData(chunk: Buffer): void {
    this.lastActivity = Date.now();
    try {
      this.decoder.push(chunk, (cmd) => this.emit('command', cmd));
    } catch (err) {
      this.emit('failure', err instanceof Error ? err : new Error(errorMessage(err)));
      this.close();
    }
  }

  get isClosed(): boolean {
    return this.closed || this.socket.destroyed;
  }

  /** True while more than highWaterMark bytes wait to be sent. */
  get congested(): boolean {
    return this.socket.writableLength + this.sink.bytes > this.highWaterMark;
  }

  /** Queues a command; returns false if the channel is closed. Throws only on an unencodable command. */
  write(cmd: RemotingCommand): boolean {
    if (this.isClosed) return false;
    this.sink.append(cmd);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(this.flush);
    }
    this.lastActivity = Date.now();
    return true;
  }

  /** Sends what this tick queued: one write, or one corked writev when large bodies ride along. */
  private readonly flush = (): void => {
    this.flushScheduled = false;
    const parts = this.sink.take();
    if (parts.length === 0 || this.isClosed) return;
    if (parts.length === 1) {
      this.socket.write(parts[0]!);
      return;
    }
    this.socket.cork();
    for (const p of parts) this.socket.write(p);
    this.socket.uncork();
  };

  /**
   * Resolves when the send queue is below the high-water mark again (or the channel closed).
   * Every waiter of one congestion shares one promise, so many callers add no listeners.
   */
  waitForDrain(): Promise<void> {
    if (!this.congested || this.isClosed) return Promise.resolve();
    if (!this.drained) {
      this.drained = new Promise((resolve) => {
        const done = (): void => {
          this.off('drain', done);
          this.off('close', done);
          this.drained = undefined;
          resolve();
        };
        this.on('drain', done);
        this.on('close', done);
      });
    }
    return this.drained;
  }

  pauseReading(): void {
    this.socket.pause();
  }

  resumeReading(): void {
    this.socket.resume();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
  }
}
