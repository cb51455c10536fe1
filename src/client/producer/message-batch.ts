/**
 * The body of SEND_BATCH_MESSAGE: the batch's messages one after another, each as
 *
 *   size  field
 *     4   TOTALSIZE        this record, the field included
 *     4   MAGICCODE        0 (the broker does not check it)
 *     4   BODYCRC          0 (the broker computes it)
 *     4   FLAG             user flag
 *   4+n   BODYLENGTH, BODY (never compressed in a batch)
 *   2+n   PROPERTIESLENGTH, PROPERTIES (each message's own, incl. its UNIQ_KEY)
 *
 * All messages share the batch's topic; delay levels and %RETRY% topics are refused, and all
 * must agree on waitStoreMsgOK, as upstream's MessageBatch. The batch-level properties (header
 * field `i`, WAIT only) are appended by the broker to each message.
 */
import { RmqError, ErrorCode } from '../../common/errors.js';
import { RETRY_GROUP_TOPIC_PREFIX } from '../../common/message/message-const.js';
import {
  decodeProperties,
  encodeProperties,
  MAX_PROPERTIES_BYTES,
} from '../../common/message/message-properties.js';
import type { Message } from '../message/message.js';

const FIXED = 4 + 4 + 4 + 4 + 4 + 2;

/** Checks that `msgs` may travel as one batch; returns the shared topic. */
export function checkBatch(msgs: readonly Message[]): string {
  const first = msgs[0];
  if (!first) throw new RmqError(ErrorCode.MESSAGE_ILLEGAL, 'a batch needs at least one message');
  for (const m of msgs) {
    if (m.delayTimeLevel > 0) {
      throw new RmqError(ErrorCode.MESSAGE_ILLEGAL, 'TimeDelayLevel is not supported for batching');
    }
    if (m.topic.startsWith(RETRY_GROUP_TOPIC_PREFIX)) {
      throw new RmqError(ErrorCode.MESSAGE_ILLEGAL, 'Retry Group is not supported for batching');
    }
    if (m.topic !== first.topic) {
      throw new RmqError(
        ErrorCode.MESSAGE_ILLEGAL,
        'The topic of the messages in one batch should be the same',
      );
    }
    if (m.waitStoreMsgOK !== first.waitStoreMsgOK) {
      throw new RmqError(
        ErrorCode.MESSAGE_ILLEGAL,
        'The waitStoreMsgOK of the messages in one batch should the same',
      );
    }
  }
  return first.topic;
}

export function encodeMessageBatch(msgs: readonly Message[]): Buffer {
  const props = msgs.map((m) => Buffer.from(encodeProperties(m.properties), 'utf8'));
  let total = 0;
  for (let i = 0; i < msgs.length; i++) {
    if (props[i]!.length > MAX_PROPERTIES_BYTES) {
      throw new RmqError(
        ErrorCode.MESSAGE_ILLEGAL,
        `the properties of batch message ${i} exceed 32767 bytes`,
      );
    }
    total += FIXED + msgs[i]!.body.length + props[i]!.length;
  }
  const out = Buffer.allocUnsafe(total);
  let pos = 0;
  for (let i = 0; i < msgs.length; i++) {
    const m = msgs[i]!;
    const p = props[i]!;
    const size = FIXED + m.body.length + p.length;
    out.writeInt32BE(size, pos);
    out.writeInt32BE(0, pos + 4);
    out.writeInt32BE(0, pos + 8);
    out.writeInt32BE(m.flag | 0, pos + 12);
    out.writeInt32BE(m.body.length, pos + 16);
    pos += 20;
    pos += m.body.copy(out, pos);
    out.writeInt16BE(p.length, pos);
    pos += 2;
    pos += p.copy(out, pos);
  }
  return out;
}

export interface DecodedBatchMessage {
  flag: number;
  body: Buffer;
  properties: Map<string, string>;
}

/** The inverse of encodeMessageBatch (for tests and tools). Throws on a malformed body. */
export function decodeMessageBatch(buf: Buffer): DecodedBatchMessage[] {
  const out: DecodedBatchMessage[] = [];
  let pos = 0;
  while (pos < buf.length) {
    if (pos + FIXED > buf.length) throw new RmqError(ErrorCode.ILLEGAL_ARGUMENT, 'truncated batch record');
    const size = buf.readInt32BE(pos);
    const flag = buf.readInt32BE(pos + 12);
    const bodyLength = buf.readInt32BE(pos + 16);
    const bodyStart = pos + 20;
    const propsLength = buf.readInt16BE(bodyStart + bodyLength);
    const propsStart = bodyStart + bodyLength + 2;
    if (size !== FIXED + bodyLength + propsLength || pos + size > buf.length) {
      throw new RmqError(ErrorCode.ILLEGAL_ARGUMENT, `bad batch record at ${pos}`);
    }
    out.push({
      flag,
      body: buf.subarray(bodyStart, bodyStart + bodyLength),
      properties: decodeProperties(buf.toString('utf8', propsStart, propsStart + propsLength)),
    });
    pos += size;
  }
  return out;
}
