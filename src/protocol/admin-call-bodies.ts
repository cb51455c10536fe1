/**
 * JSON bodies of the admin requests a broker relays to its consumers:
 *
 * ConsumeMessageDirectlyResult (CONSUME_MESSAGE_DIRECTLY answer, written by the client):
 *   {"autoCommit":true,"consumeResult":"CR_SUCCESS","order":false,"remark":"...","spentTimeMills":3}
 *
 * GetConsumerStatusBody (INVOKE_BROKER_TO_GET_CONSUMER_STATUS answer; each client answers
 * GET_CONSUMER_STATUS_FROM_CLIENT with only messageQueueTable filled):
 *   {"consumerTable":{"<clientId>":{{"brokerName":"b","queueId":0,"topic":"T"}:12,...}},
 *    "messageQueueTable":{{MessageQueue}:offset,...}}
 *
 * ResetOffsetBodyForC (RESET_CONSUMER_CLIENT_OFFSET to C++ clients, which cannot read object keys):
 *   {"offsetTable":[{"brokerName":"b","offset":12,"queueId":0,"topic":"T"},...]}
 *
 * MessageQueue-keyed maps are written as fastjson writes them (object keys), as in admin-bodies.ts.
 */
import { objectKeyedEntries, mapEntries } from './fastjson.js';
import { jsonBody, messageQueueFromJson, parseBody, type MessageQueue } from './admin-bodies.js';

/** How a listener answered a message consumed on an admin's request (upstream's CMResult). */
export const CMResult = {
  CR_SUCCESS: 'CR_SUCCESS',
  CR_LATER: 'CR_LATER',
  CR_ROLLBACK: 'CR_ROLLBACK',
  CR_COMMIT: 'CR_COMMIT',
  CR_THROW_EXCEPTION: 'CR_THROW_EXCEPTION',
  CR_RETURN_NULL: 'CR_RETURN_NULL',
} as const;
export type CMResult = (typeof CMResult)[keyof typeof CMResult];

export interface ConsumeMessageDirectlyResult {
  order: boolean;
  autoCommit: boolean;
  /** Absent when the listener answered a status that has no CMResult (as upstream: null). */
  consumeResult?: CMResult | undefined;
  remark?: string | undefined;
  spentTimeMills: number;
}

export function encodeConsumeMessageDirectlyResult(r: ConsumeMessageDirectlyResult): Buffer {
  return jsonBody(r);
}

export function decodeConsumeMessageDirectlyResult(body: Buffer | undefined): ConsumeMessageDirectlyResult {
  const o = parseBody(body, 'ConsumeMessageDirectlyResult');
  const result = o.consumeResult;
  return {
    order: o.order === true,
    autoCommit: o.autoCommit !== false,
    consumeResult: typeof result === 'string' && result in CMResult ? (result as CMResult) : undefined,
    remark: typeof o.remark === 'string' ? o.remark : undefined,
    spentTimeMills: Number(o.spentTimeMills ?? 0),
  };
}

export interface GetConsumerStatusBody {
  /** Filled by a client's own answer; empty in the broker's aggregate, as upstream. */
  messageQueueTable: [MessageQueue, number][];
  /** Client id -> that client's offsets of the topic's queues. */
  consumerTable: Map<string, [MessageQueue, number][]>;
}

export function encodeGetConsumerStatusBody(b: GetConsumerStatusBody): Buffer {
  return jsonBody({
    messageQueueTable: new Map(b.messageQueueTable),
    consumerTable: new Map([...b.consumerTable].map(([id, offsets]) => [id, new Map(offsets)])),
  });
}

function offsetEntries(raw: unknown): [MessageQueue, number][] {
  return objectKeyedEntries(raw).map(([k, v]) => [messageQueueFromJson(k), Number(v)]);
}

export function decodeGetConsumerStatusBody(body: Buffer | undefined): GetConsumerStatusBody {
  const o = parseBody(body, 'GetConsumerStatusBody');
  return {
    messageQueueTable: offsetEntries(o.messageQueueTable),
    consumerTable: new Map(mapEntries(o.consumerTable).map(([id, v]) => [id, offsetEntries(v)])),
  };
}

export function encodeResetOffsetBodyForC(offsets: [MessageQueue, number][]): Buffer {
  return jsonBody({
    offsetTable: offsets.map(([mq, offset]) => ({ ...mq, offset })),
  });
}
