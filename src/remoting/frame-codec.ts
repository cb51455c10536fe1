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
import { decodeJsonHeader, encodeJsonHeader } from './header-json.js';
import { decodeRocketMqHeader, encodeRocketMqHeader } from './header-rocketmq.js';
import { SerializeType, type RemotingCommand } from './remoting-command.js';

export const MAX_FRAME_LENGTH = 16 * 1024 * 1024;

/**
 * Encodes a command as the length prefix + header in one buffer, plus the body as a second buffer
 * (not copied), so large bodies go to the socket without an extra copy.
 */
export function encodeFrame(cmd: RemotingCommand): [Buffer] | [Buffer, Buffer] {
  const bodyLen = cmd.body?.length ?? 0;
  let out: Buffer;
  let headerLen: number;
  if (cmd.serializeType === SerializeType.ROCKETMQ) {
    const header = encodeRocketMqHeader(cmd);
    headerLen = header.length;
    out = Buffer.allocUnsafe(8 + headerLen);
    header.copy(out, 8);
  } else {
    const header = encodeJsonHeader(cmd);
    headerLen = Buffer.byteLength(header, 'utf8');
    out = Buffer.allocUnsafe(8 + headerLen);
    out.write(header, 8, 'utf8');
  }
  const length = 4 + headerLen + bodyLen;
  if (length > MAX_FRAME_LENGTH || headerLen > 0xffffff) {
    throw new RmqError(ErrorCode.FRAME_INVALID, `frame of ${length} bytes exceeds ${MAX_FRAME_LENGTH}`);
  }
  out.writeInt32BE(length, 0);
  out.writeInt32BE(((cmd.serializeType & 0xff) << 24) | headerLen, 4);
  return bodyLen > 0 ? [out, cmd.body!] : [out];
}

/** Encodes into one buffer (tests, small frames). */
export function encodeFrameToBuffer(cmd: RemotingCommand): Buffer {
  const parts = encodeFrame(cmd);
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
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
