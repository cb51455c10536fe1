/**
 * Hand-written codecs of the headers on the message hot path: SEND_MESSAGE_V2 / SEND_BATCH_MESSAGE
 * requests and their response, PULL_MESSAGE requests and their response. Each gives exactly what
 * its descriptor in broker-headers.ts gives (a property test holds them together) at a fraction of
 * the cost: no loop over field specs, no regular expression per number. Anything unusual (a
 * missing field, a malformed number) is handed to the descriptor, so errors read the same.
 */
import type { ExtFields } from '../remoting/remoting-command.js';
import type { DecodeResult, HeaderOf } from './header.js';
import {
  PullMessageRequestHeader,
  PullMessageResponseHeader,
  SendMessageRequestHeaderV2,
  SendMessageResponseHeader,
  type PullMessageRequest,
  type SendMessageRequest,
} from './broker-headers.js';

export type SendMessageResponse = HeaderOf<typeof SendMessageResponseHeader.fields>;
export type PullMessageResponse = HeaderOf<typeof PullMessageResponseHeader.fields>;

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;

/**
 * The integer a header value holds, or NaN when the descriptor would have to judge it (not
 * /^-?\d+$/, or too long to be sure it is a safe integer).
 */
function parseIntStrict(s: string): number {
  const n = s.length;
  if (n === 0 || n > 15) return NaN;
  let i = 0;
  let neg = false;
  if (s.charCodeAt(0) === 45) {
    if (n === 1) return NaN;
    neg = true;
    i = 1;
  }
  let v = 0;
  for (; i < n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return NaN;
    v = v * 10 + d;
  }
  return neg ? -v : v;
}

function int32(s: string | undefined): number {
  if (s === undefined) return NaN;
  const v = parseIntStrict(s);
  return v >= INT_MIN && v <= INT_MAX ? v : NaN;
}

function int64(s: string | undefined): number {
  return s === undefined ? NaN : parseIntStrict(s);
}

/** An optional int: undefined when absent or empty, NaN when the descriptor must judge it. */
function optInt32(s: string | undefined): number | undefined {
  return s === undefined || s === '' ? undefined : int32(s);
}

/** Java's Boolean.parseBoolean, as the descriptor decodes 'bool'. */
function optBool(s: string | undefined): boolean | undefined {
  if (s === undefined || s === '') return undefined;
  return s === 'true' || (s !== 'false' && s.toLowerCase() === 'true');
}

export function encodeSendRequestV2(h: SendMessageRequest): ExtFields {
  const out: ExtFields = {
    a: h.producerGroup,
    b: h.topic,
    c: h.defaultTopic,
    d: String(h.defaultTopicQueueNums),
    e: String(h.queueId),
    f: String(h.sysFlag),
    g: String(h.bornTimestamp),
    h: String(h.flag),
  };
  if (h.properties !== undefined && h.properties !== null) out.i = h.properties;
  if (h.reconsumeTimes !== undefined && h.reconsumeTimes !== null) out.j = String(h.reconsumeTimes);
  if (h.unitMode !== undefined && h.unitMode !== null) out.k = String(h.unitMode);
  if (h.maxReconsumeTimes !== undefined && h.maxReconsumeTimes !== null) out.l = String(h.maxReconsumeTimes);
  if (h.batch !== undefined && h.batch !== null) out.m = String(h.batch);
  if (h.bname !== undefined && h.bname !== null) out.n = h.bname;
  return out;
}

export function decodeSendRequestV2(ext: ExtFields | undefined): DecodeResult<SendMessageRequest> {
  if (ext) {
    const { a, b, c } = ext;
    const d = int32(ext.d);
    const e = int32(ext.e);
    const f = int32(ext.f);
    const g = int64(ext.g);
    const h = int32(ext.h);
    const j = optInt32(ext.j);
    const l = optInt32(ext.l);
    if (
      typeof a === 'string' &&
      typeof b === 'string' &&
      typeof c === 'string' &&
      d === d &&
      e === e &&
      f === f &&
      g === g &&
      h === h &&
      j === j &&
      l === l
    ) {
      const value: SendMessageRequest = {
        producerGroup: a,
        topic: b,
        defaultTopic: c,
        defaultTopicQueueNums: d,
        queueId: e,
        sysFlag: f,
        bornTimestamp: g,
        flag: h,
      };
      if (ext.i !== undefined) value.properties = ext.i;
      if (j !== undefined) value.reconsumeTimes = j;
      const k = optBool(ext.k);
      if (k !== undefined) value.unitMode = k;
      if (l !== undefined) value.maxReconsumeTimes = l;
      const m = optBool(ext.m);
      if (m !== undefined) value.batch = m;
      if (ext.n !== undefined) value.bname = ext.n;
      return { ok: true, value };
    }
  }
  return SendMessageRequestHeaderV2.decode(ext);
}

export function encodeSendResponse(h: SendMessageResponse): ExtFields {
  const out: ExtFields = { msgId: h.msgId, queueId: String(h.queueId), queueOffset: String(h.queueOffset) };
  if (h.transactionId !== undefined && h.transactionId !== null) out.transactionId = h.transactionId;
  if (h.MSG_REGION !== undefined && h.MSG_REGION !== null) out.MSG_REGION = h.MSG_REGION;
  if (h.TRACE_ON !== undefined && h.TRACE_ON !== null) out.TRACE_ON = h.TRACE_ON;
  return out;
}

export function decodeSendResponse(ext: ExtFields | undefined): DecodeResult<SendMessageResponse> {
  if (ext && typeof ext.msgId === 'string') {
    const queueId = int32(ext.queueId);
    const queueOffset = int64(ext.queueOffset);
    if (queueId === queueId && queueOffset === queueOffset) {
      const value: SendMessageResponse = { msgId: ext.msgId, queueId, queueOffset };
      if (ext.transactionId !== undefined) value.transactionId = ext.transactionId;
      if (ext.MSG_REGION !== undefined) value.MSG_REGION = ext.MSG_REGION;
      if (ext.TRACE_ON !== undefined) value.TRACE_ON = ext.TRACE_ON;
      return { ok: true, value };
    }
  }
  return SendMessageResponseHeader.decode(ext);
}

export function encodePullRequest(h: PullMessageRequest): ExtFields {
  const out: ExtFields = {
    consumerGroup: h.consumerGroup,
    topic: h.topic,
    queueId: String(h.queueId),
    queueOffset: String(h.queueOffset),
    maxMsgNums: String(h.maxMsgNums),
    sysFlag: String(h.sysFlag),
    commitOffset: String(h.commitOffset),
    suspendTimeoutMillis: String(h.suspendTimeoutMillis),
  };
  if (h.subscription !== undefined && h.subscription !== null) out.subscription = h.subscription;
  out.subVersion = String(h.subVersion);
  if (h.expressionType !== undefined && h.expressionType !== null) out.expressionType = h.expressionType;
  if (h.bname !== undefined && h.bname !== null) out.bname = h.bname;
  return out;
}

export function decodePullRequest(ext: ExtFields | undefined): DecodeResult<PullMessageRequest> {
  if (ext && typeof ext.consumerGroup === 'string' && typeof ext.topic === 'string') {
    const queueId = int32(ext.queueId);
    const queueOffset = int64(ext.queueOffset);
    const maxMsgNums = int32(ext.maxMsgNums);
    const sysFlag = int32(ext.sysFlag);
    const commitOffset = int64(ext.commitOffset);
    const suspendTimeoutMillis = int64(ext.suspendTimeoutMillis);
    const subVersion = int64(ext.subVersion);
    if (
      queueId === queueId &&
      queueOffset === queueOffset &&
      maxMsgNums === maxMsgNums &&
      sysFlag === sysFlag &&
      commitOffset === commitOffset &&
      suspendTimeoutMillis === suspendTimeoutMillis &&
      subVersion === subVersion
    ) {
      const value: PullMessageRequest = {
        consumerGroup: ext.consumerGroup,
        topic: ext.topic,
        queueId,
        queueOffset,
        maxMsgNums,
        sysFlag,
        commitOffset,
        suspendTimeoutMillis,
        subVersion,
      };
      if (ext.subscription !== undefined) value.subscription = ext.subscription;
      if (ext.expressionType !== undefined) value.expressionType = ext.expressionType;
      if (ext.bname !== undefined) value.bname = ext.bname;
      return { ok: true, value };
    }
  }
  return PullMessageRequestHeader.decode(ext);
}

export function encodePullResponse(h: PullMessageResponse): ExtFields {
  return {
    suggestWhichBrokerId: String(h.suggestWhichBrokerId),
    nextBeginOffset: String(h.nextBeginOffset),
    minOffset: String(h.minOffset),
    maxOffset: String(h.maxOffset),
  };
}

export function decodePullResponse(ext: ExtFields | undefined): DecodeResult<PullMessageResponse> {
  if (ext) {
    const suggestWhichBrokerId = int64(ext.suggestWhichBrokerId);
    const nextBeginOffset = int64(ext.nextBeginOffset);
    const minOffset = int64(ext.minOffset);
    const maxOffset = int64(ext.maxOffset);
    if (
      suggestWhichBrokerId === suggestWhichBrokerId &&
      nextBeginOffset === nextBeginOffset &&
      minOffset === minOffset &&
      maxOffset === maxOffset
    ) {
      return { ok: true, value: { suggestWhichBrokerId, nextBeginOffset, minOffset, maxOffset } };
    }
  }
  return PullMessageResponseHeader.decode(ext);
}
