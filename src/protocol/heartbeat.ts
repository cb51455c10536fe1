/**
 * HEART_BEAT body (HeartbeatData) and the subscription model shared by broker and client.
 *   {"clientID":"ip@pid","producerDataSet":[{"groupName":"PG"}],
 *    "consumerDataSet":[{"groupName":"CG","consumeType":"CONSUME_PASSIVELY","messageModel":"CLUSTERING",
 *      "consumeFromWhere":"CONSUME_FROM_LAST_OFFSET","unitMode":false,
 *      "subscriptionDataSet":[{"topic":"T","subString":"TagA || TagB","tagsSet":["TagA","TagB"],
 *        "codeSet":[2598919,2598920],"subVersion":1700000000000,"classFilterMode":false,"expressionType":"TAG"}]}]}
 * `expressionType` may be absent (ali-ons): it means TAG.
 */
import { javaStringHashCode } from '../common/java-hash.js';
import { RmqError, ErrorCode } from '../common/errors.js';
import { writeJson } from './fastjson.js';

export const SUB_ALL = '*';
export type ExpressionType = 'TAG' | 'SQL92';
export type ConsumeType = 'CONSUME_ACTIVELY' | 'CONSUME_PASSIVELY' | 'CONSUME_POP';
export type MessageModel = 'BROADCASTING' | 'CLUSTERING';
export type ConsumeFromWhere =
  | 'CONSUME_FROM_LAST_OFFSET'
  | 'CONSUME_FROM_FIRST_OFFSET'
  | 'CONSUME_FROM_TIMESTAMP'
  | 'CONSUME_FROM_LAST_OFFSET_AND_FROM_MIN_WHEN_BOOT_FIRST'
  | 'CONSUME_FROM_MIN_OFFSET'
  | 'CONSUME_FROM_MAX_OFFSET';

export interface SubscriptionData {
  topic: string;
  subString: string;
  tagsSet: string[];
  codeSet: number[];
  subVersion: number;
  classFilterMode: boolean;
  expressionType: ExpressionType;
}

export interface ConsumerData {
  groupName: string;
  consumeType: ConsumeType;
  messageModel: MessageModel;
  consumeFromWhere: ConsumeFromWhere;
  subscriptionDataSet: SubscriptionData[];
  unitMode: boolean;
}

export interface ProducerData {
  groupName: string;
}

export interface HeartbeatData {
  clientID: string;
  producerDataSet: ProducerData[];
  consumerDataSet: ConsumerData[];
}

/**
 * Builds a TAG subscription as upstream's FilterAPI does: `*` or empty matches everything,
 * otherwise `TagA || TagB` with each tag's Java hash code.
 */
export function buildSubscriptionData(
  topic: string,
  subString: string | undefined,
  expressionType: string | undefined = 'TAG',
  subVersion = Date.now(),
): SubscriptionData {
  const type = (expressionType || 'TAG').toUpperCase();
  if (type !== 'TAG' && type !== 'SQL92') {
    throw new RmqError(ErrorCode.ILLEGAL_ARGUMENT, `unknown expression type ${expressionType}`);
  }
  const data: SubscriptionData = {
    topic,
    subString: subString && subString.trim() !== '' ? subString.trim() : SUB_ALL,
    tagsSet: [],
    codeSet: [],
    subVersion,
    classFilterMode: false,
    expressionType: type as ExpressionType,
  };
  if (data.expressionType === 'TAG' && data.subString !== SUB_ALL) {
    for (const tag of data.subString.split('||')) {
      const t = tag.trim();
      if (t === '' || data.tagsSet.includes(t)) continue;
      data.tagsSet.push(t);
      data.codeSet.push(javaStringHashCode(t));
    }
    if (data.tagsSet.length === 0) {
      throw new RmqError(ErrorCode.ILLEGAL_ARGUMENT, `subscription '${subString}' has no tag`);
    }
  }
  return data;
}

function str(v: unknown, d = ''): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? d : String(v);
}

function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export function subscriptionDataFromJson(raw: unknown): SubscriptionData {
  const o = (raw ?? {}) as Record<string, unknown>;
  return {
    topic: str(o.topic),
    subString: str(o.subString, SUB_ALL),
    tagsSet: arr(o.tagsSet).map((t) => str(t)),
    codeSet: arr(o.codeSet).map((c) => Number(c) | 0),
    subVersion: Number(o.subVersion ?? 0) || 0,
    classFilterMode: o.classFilterMode === true,
    expressionType: str(o.expressionType, 'TAG').toUpperCase() === 'SQL92' ? 'SQL92' : 'TAG',
  };
}

export function decodeHeartbeatData(body: Buffer | undefined): HeartbeatData {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(body?.toString('utf8') ?? '') as Record<string, unknown>;
  } catch {
    throw new RmqError(ErrorCode.ILLEGAL_ARGUMENT, 'HEART_BEAT body is not JSON');
  }
  if (!o || typeof o !== 'object' || typeof o.clientID !== 'string') {
    throw new RmqError(ErrorCode.ILLEGAL_ARGUMENT, 'HEART_BEAT body has no clientID');
  }
  return {
    clientID: o.clientID,
    producerDataSet: arr(o.producerDataSet).map((p) => ({
      groupName: str((p as Record<string, unknown>)?.groupName),
    })),
    consumerDataSet: arr(o.consumerDataSet).map((c) => {
      const r = (c ?? {}) as Record<string, unknown>;
      return {
        groupName: str(r.groupName),
        consumeType: str(r.consumeType, 'CONSUME_PASSIVELY') as ConsumeType,
        messageModel: str(r.messageModel, 'CLUSTERING') as MessageModel,
        consumeFromWhere: str(r.consumeFromWhere, 'CONSUME_FROM_LAST_OFFSET') as ConsumeFromWhere,
        subscriptionDataSet: arr(r.subscriptionDataSet).map(subscriptionDataFromJson),
        unitMode: r.unitMode === true,
      };
    }),
  };
}

export function encodeHeartbeatData(hb: HeartbeatData): Buffer {
  return Buffer.from(writeJson(hb), 'utf8');
}
