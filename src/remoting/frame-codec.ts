/**
 * Frame layout, both directions, big-endian:
 *   0  4  length         bytes that follow this field = 4 + headerLength + bodyLength
 *   4  4  header word    high byte: serialize type (0 JSON, 1 ROCKETMQ); low 24 bits: headerLength
 *   8  n  header         JSON text or ROCKETMQ binary header
 *   .  m  body           the rest, possibly empty
 * A frame may not exceed MAX_FRAME_LENGTH (16 MiB, upstream's default). Decoding errors are
 * RmqError(FRAME_INVALID); the connection that sent them is closed by its owner.
 */
import { RmqError, ErrorCode } from '../common/errors.js';
import { decodeJsonHeader, jsonHeaderMaxBytes, writeJsonHeader } from './header-json.js';
import { decodeRocketMqHeader, rocketMqHeaderMaxBytes, writeRocketMqHeader } from './header-rocketmq.js';
import { SerializeType, type RemotingCommand } from './remoting-command.js';

export const MAX_FRAME_LENGTH = 16 * 1024 * 1024;

/** Bodies up to this size are copied next to their header; larger ones go to the socket as they are. */
const COPY_BODY_MAX = 32 * 1024;
const SLAB_SIZE = 256 * 1024;

/**
 * Encodes commands back to back into one buffer, so that everything a connection sends in one
 * tick leaves in one socket write (a write costs far more than copying a 1 KiB body). Frames
 * are written into a slab that is only ever appended to: buffers handed out by `take()` stay
 * valid while the socket sends them, and the slab is replaced, not reused, once full.
 */
export class FrameSink {
  private slab = Buffer.allocUnsafe(0);
  /** Start of the bytes not yet taken, and the write position, in `slab`. */
  private start = 0;
  private pos = 0;
  private parts: Buffer[] = [];
  /** Bytes appended and not yet taken. */
  bytes = 0;

  private ensure(n: number): void {
    if (this.pos + n <= this.slab.length) return;
    this.cut();
    this.slab = Buffer.allocUnsafe(Math.max(SLAB_SIZE, n));
    this.start = 0;
    this.pos = 0;
  }

  /** Moves the slab's pending bytes to `parts`. */
  private cut(): void {
    if (this.pos > this.start) this.parts.push(this.slab.subarray(this.start, this.pos));
    this.start = this.pos;
  }

  /** Appends one frame. Throws RmqError(FRAME_INVALID) when it would exceed the frame limit. */
  append(cmd: RemotingCommand): void {
    const body = cmd.body;
    const bodyLen = body?.length ?? 0;
    const copyBody = bodyLen <= COPY_BODY_MAX;
    let headerLen: number;
    if (cmd.serializeType === SerializeType.ROCKETMQ) {
      const max = rocketMqHeaderMaxBytes(cmd);
      this.ensure(8 + max + (copyBody ? bodyLen : 0));
      headerLen = writeRocketMqHeader(cmd, this.slab, this.pos + 8);
    } else {
      this.ensure(8 + jsonHeaderMaxBytes(cmd) + (copyBody ? bodyLen : 0));
      headerLen = writeJsonHeader(cmd, this.slab, this.pos + 8);
    }
    const length = 4 + headerLen + bodyLen;
    if (length > MAX_FRAME_LENGTH || headerLen > 0xffffff) {
      throw new RmqError(ErrorCode.FRAME_INVALID, `frame of ${length} bytes exceeds ${MAX_FRAME_LENGTH}`);
    }
    const slab = this.slab;
    slab.writeInt32BE(length, this.pos);
    slab.writeInt32BE(((cmd.serializeType & 0xff) << 24) | headerLen, this.pos + 4);
    this.pos += 8 + headerLen;
    if (bodyLen > 0) {
      if (copyBody) {
        this.pos += body!.copy(slab, this.pos);
      } else {
        this.cut();
        this.parts.push(body!);
      }
    }
    this.bytes += 4 + length;
  }

  /** The bytes appended since the last call, in order (usually one buffer). */
  take(): Buffer[] {
    this.cut();
    const out = this.parts;
    this.parts = [];
    this.bytes = 0;
    return out;
  }
}

/** Encodes one command into a buffer of its own (tests, tools, small frames). */
export function encodeFrameToBuffer(cmd: RemotingCommand): Buffer {
  const sink = new FrameSink();
  sink.append(cmd);
  const parts = sink.take();
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/** Decodes one frame's content (everything after the 4-byte length field). */
export function decodeFrameContent(frame: Buffer): RemotingCommand {
  if (frame.length < 4) throw new RmqError(ErrorCode.FRAME_INVALID, 'frame shorter than its header word');
  const word = frame.readInt32BE(0);
  const type = (word >>> 24) & 0xff;
  const headerLen = word & 0xffffff;
  if (4 + headerLen > frame.length) {
    throw new RmqError(
      ErrorCode.FRAME_INVALID,
      `header length ${headerLen} past the frame of ${frame.length} bytes`,
    );
  }
  const headerEnd = 4 + headerLen;
  let cmd: Omit<RemotingCommand, 'body'>;
  if (type === SerializeType.JSON) {
    cmd = decodeJsonHeader(frame.toString('utf8', 4, headerEnd));
  } else if (type === SerializeType.ROCKETMQ) {
    cmd = decodeRocketMqHeader(frame.subarray(4, headerEnd));
  } else {
    throw new RmqError(ErrorCode.FRAME_INVALID, `unknown serialize type ${type}`);
  }
  const result = cmd as RemotingCommand;
  if (headerEnd < frame.length) result.body = frame.subarray(headerEnd);
  return result;
}

/**
 * Splits a byte stream into commands. Bodies are views into the received chunks (no copy);
 * a frame that arrives in many chunks is assembled once, when complete.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Bytes needed before the next decode attempt is worthwhile. */
  private needed = 4;

  constructor(private readonly maxFrameLength = MAX_FRAME_LENGTH) {}

  /** Feeds bytes; calls `emit` per complete command. Throws RmqError(FRAME_INVALID) on bad input. */
  push(chunk: Buffer, emit: (cmd: RemotingCommand) => void): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered < this.needed) return;
    let buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    this.chunks = [];
    this.buffered = 0;
    let pos = 0;
    while (buf.length - pos >= 4) {
      const len = buf.readInt32BE(pos);
      if (len < 4 || len > this.maxFrameLength) {
        throw new RmqError(
          ErrorCode.FRAME_INVALID,
          `frame length ${len} outside [4, ${this.maxFrameLength}]`,
        );
      }
      if (buf.length - pos - 4 < len) {
        this.needed = 4 + len;
        break;
      }
      const frame = buf.subarray(pos + 4, pos + 4 + len);
      pos += 4 + len;
      emit(decodeFrameContent(frame));
    }
    if (pos < buf.length) {
      buf = buf.subarray(pos);
      this.chunks.push(buf);
      this.buffered = buf.length;
      if (buf.length < 4) this.needed = 4;
    } else {
      this.needed = 4;
    }
  }

  /** Bytes held for an incomplete frame. */
  get pendingBytes(): number {
    return this.buffered;
  }
}
