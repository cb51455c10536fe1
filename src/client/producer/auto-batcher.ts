/**
 * Opt-in automatic batching (ProducerOptions.autoBatch): single messages sent in the same tick to
 * the same topic are coalesced into SEND_BATCH_MESSAGE requests, so a producer with many sends in
 * flight pays one request, one broker put and one response per batch instead of per message.
 * Each message still gets its own SendResult (its own msgId, offsetMsgId and queue offset) or the
 * batch's error.
 *
 * Only messages that would be stored the same way either way are taken: no delay level, no
 * %RETRY% topic, no transaction, a body below the compression threshold (batches are never
 * compressed), properties well within the 32 KiB limit. Messages are grouped by topic, send mode
 * and waitStoreMsgOK; a group is sent when it reaches maxMessages or maxBytes, the rest at the end
 * of the tick. A group of one goes as the plain SEND_MESSAGE_V2 it would have been. The batch is
 * sent (and retried) as one unit on the queue the fault strategy picks, like an explicit batch.
 *
 * Stored form: as an explicit batch, each message's own properties followed by the batch-level
 * ones the broker appends (WAIT, CLUSTER). A message's own WAIT=true is left out, so it is not
 * stored twice.
 */
import { MessageProperty, RETRY_GROUP_TOPIC_PREFIX } from '../../common/message/message-const.js';
import { encodeProperties, removeProperty } from '../../common/message/message-properties.js';
import { RequestCode } from '../../protocol/request-code.js';
import type { Message } from '../message/message.js';
import type { PreparedMessage, SendDone, SendEngine } from './send-engine.js';
import { SendResult } from './send-result.js';

export interface AutoBatchOptions {
  /** Most messages in one batch (128). */
  maxMessages?: number;
  /** Most bytes in one batch body (512 KiB; never above maxMessageSize). */
  maxBytes?: number;
}

export interface AutoBatchConfig {
  maxMessages: number;
  maxBytes: number;
}

/** Batch record: TOTALSIZE, MAGIC, BODYCRC, FLAG, BODYLENGTH, then body and PROPERTIESLENGTH. */
const RECORD_FIXED = 4 + 4 + 4 + 4 + 4 + 2;
/** Properties whose UTF-8 form could pass the int16 length field stay out of batches. */
const MAX_BATCHED_PROPERTIES_CHARS = 32767 / 3;

interface Entry {
  p: PreparedMessage;
  timeoutMs: number;
  done: SendDone;
}

interface Group {
  topic: string;
  mode: 'SYNC' | 'ASYNC';
  wait: boolean;
  entries: Entry[];
  bytes: number;
}

export class AutoBatcher {
  /**
   * Groups by key, kept once created (one per topic, mode and wait) and emptied when sent: a Map
   * whose entries came and went every tick rehashed into fresh tables, and tables it dropped kept
   * sent messages alive through young-generation collections.
   */
  private readonly groups = new Map<string, Group>();
  /** Groups holding messages, in the order they got their first. */
  private readonly open: Group[] = [];
  /** The group the previous message joined. */
  private last: Group | undefined;
  private scheduled = false;

  constructor(
    private readonly engine: SendEngine,
    private readonly config: AutoBatchConfig,
    private readonly compressOver: number,
  ) {}

  /** Whether this message may ride in an automatic batch. */
  accepts(msg: Message, p: PreparedMessage): boolean {
    return (
      p.code === RequestCode.SEND_MESSAGE_V2 &&
      p.sysFlag === 0 &&
      p.body.length < this.compressOver &&
      p.properties.length <= MAX_BATCHED_PROPERTIES_CHARS &&
      !msg.topic.startsWith(RETRY_GROUP_TOPIC_PREFIX) &&
      !(msg.delayTimeLevel > 0)
    );
  }

  add(msg: Message, p: PreparedMessage, mode: 'SYNC' | 'ASYNC', timeoutMs: number, done: SendDone): void {
    const wait = msg.waitStoreMsgOK;
    // Sends of one tick usually share topic and mode: try the last group before building a key.
    let g = this.last;
    if (!g || g.topic !== p.topic || g.mode !== mode || g.wait !== wait) {
      const key = `${mode}${wait ? 1 : 0}${p.topic}`;
      g = this.groups.get(key);
      if (!g) {
        g = { topic: p.topic, mode, wait, entries: [], bytes: 0 };
        this.groups.set(key, g);
      }
      this.last = g;
    }
    if (g.entries.length === 0) this.open.push(g);
    g.entries.push({ p, timeoutMs, done });
    // An upper bound of the record's size in the batch body (UTF-8 takes at most 3 bytes a unit).
    g.bytes += RECORD_FIXED + p.body.length + p.properties.length * 3;
    if (g.entries.length >= this.config.maxMessages || g.bytes >= this.config.maxBytes) {
      // Sent now; it stays in `open` (empty) until the flush passes it.
      this.sendGroup(g);
    } else if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(this.flush);
    }
  }

  /** Sends every group still holding messages (end of the tick). */
  private readonly flush = (): void => {
    this.scheduled = false;
    const open = this.open;
    for (let i = 0; i < open.length; i++) if (open[i]!.entries.length > 0) this.sendGroup(open[i]!);
    open.length = 0;
  };

  /** Sends a group's messages and empties it (before sending: a callback may add to it). */
  private sendGroup(g: Group): void {
    const entries = g.entries;
    g.entries = [];
    g.bytes = 0;
    if (entries.length === 1) {
      const e = entries[0]!;
      this.engine.send(e.p, g.mode, e.timeoutMs, e.done);
      return;
    }
    let timeoutMs = Infinity;
    for (const e of entries) if (e.timeoutMs < timeoutMs) timeoutMs = e.timeoutMs;
    const batch: PreparedMessage = {
      topic: g.topic,
      code: RequestCode.SEND_BATCH_MESSAGE,
      body: encodeBatchBody(entries, g.wait),
      sysFlag: 0,
      flag: 0,
      properties: encodeProperties(new Map([[MessageProperty.WAIT_STORE_MSG_OK, g.wait ? 'true' : 'false']])),
      msgId: entries.map((e) => e.p.msgId).join(','),
      batch: true,
      reconsumeTimes: 0,
      maxReconsumeTimes: undefined,
    };
    this.engine.send(batch, g.mode, timeoutMs, (err, r) => {
      if (err) {
        for (const e of entries) e.done(err, undefined);
        return;
      }
      const offsetIds = r!.offsetMsgId.split(',');
      for (let i = 0; i < entries.length; i++) {
        entries[i]!.done(
          undefined,
          new SendResult(
            r!.sendStatus,
            entries[i]!.p.msgId,
            offsetIds[i] ?? r!.offsetMsgId,
            r!.messageQueue,
            r!.queueOffset + i,
            r!.transactionId,
            r!.regionId,
            r!.traceOn,
          ),
        );
      }
    });
  }
}

const WAIT_TRUE = `${MessageProperty.WAIT_STORE_MSG_OK}\u0001true`;

/** The SEND_BATCH_MESSAGE body of the entries, written once into one buffer. */
function encodeBatchBody(entries: readonly Entry[], wait: boolean): Buffer {
  const props: string[] = [];
  let max = 0;
  for (const e of entries) {
    let s = e.p.properties;
    // The broker appends the batch's WAIT=true to every message: keep one copy, not two.
    if (wait && s.includes(WAIT_TRUE)) s = removeProperty(s, MessageProperty.WAIT_STORE_MSG_OK);
    props.push(s);
    max += RECORD_FIXED + e.p.body.length + s.length * 3;
  }
  const out = Buffer.allocUnsafe(max);
  let pos = 0;
  for (let i = 0; i < entries.length; i++) {
    const { body, flag } = entries[i]!.p;
    const start = pos;
    out.writeInt32BE(0, pos + 4);
    out.writeInt32BE(0, pos + 8);
    out.writeInt32BE(flag | 0, pos + 12);
    out.writeInt32BE(body.length, pos + 16);
    pos += 20;
    pos += body.copy(out, pos);
    const n = out.write(props[i]!, pos + 2, 'utf8');
    out.writeInt16BE(n, pos);
    pos += 2 + n;
    out.writeInt32BE(pos - start, start);
  }
  return out.subarray(0, pos);
}
