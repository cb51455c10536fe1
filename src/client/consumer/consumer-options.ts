/** Options both consumers share (upstream's names and defaults), and their validation. */
import { RmqError, ErrorCode } from '../../common/errors.js';
import { underHome } from '../../common/paths.js';
import type { ConsumeFromWhere, MessageModel } from '../../protocol/heartbeat.js';
import {
  checkGroupName,
  resolveClientConfig,
  type ClientConfig,
  type ClientOptions,
} from '../client-options.js';
import { allocateMessageQueueAveragely, type AllocateMessageQueueStrategy } from './allocate-strategy.js';

export interface ConsumerOptions extends ClientOptions {
  consumerGroup: string;
  /** CLUSTERING (default): the group shares the queues; BROADCASTING: every member gets everything. */
  messageModel?: MessageModel;
  /** Where a group with no committed offset starts (CONSUME_FROM_LAST_OFFSET). */
  consumeFromWhere?: ConsumeFromWhere;
  /** For CONSUME_FROM_TIMESTAMP: `yyyyMMddHHmmss` local time (default half an hour ago). */
  consumeTimestamp?: string;
  allocateMessageQueueStrategy?: AllocateMessageQueueStrategy;
  /** Where BROADCASTING consumers keep offsets (default ~/.rocketmq_offsets). */
  offsetStoreDir?: string;
}

export interface ConsumerConfig {
  client: ClientConfig;
  consumerGroup: string;
  messageModel: MessageModel;
  consumeFromWhere: ConsumeFromWhere;
  consumeTimestamp: string;
  allocateMessageQueueStrategy: AllocateMessageQueueStrategy;
  offsetStoreDir: string;
}

const MODELS = new Set(['CLUSTERING', 'BROADCASTING']);
const WHERE = new Set([
  'CONSUME_FROM_LAST_OFFSET',
  'CONSUME_FROM_FIRST_OFFSET',
  'CONSUME_FROM_TIMESTAMP',
  'CONSUME_FROM_LAST_OFFSET_AND_FROM_MIN_WHEN_BOOT_FIRST',
  'CONSUME_FROM_MIN_OFFSET',
  'CONSUME_FROM_MAX_OFFSET',
]);

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** `yyyyMMddHHmmss` of a time, local zone (upstream's UtilAll.timeMillisToHumanString3). */
export function formatTimestamp(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`;
}

/** Parses `yyyyMMddHHmmss` (local time) to ms since the epoch. */
export function parseTimestamp(s: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(s);
  if (!m) throw new RmqError(ErrorCode.ILLEGAL_ARGUMENT, `consumeTimestamp '${s}' is not yyyyMMddHHmmss`);
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  return new Date(y, mo - 1, d, h, mi, se).getTime();
}

export function resolveConsumerOptions(o: ConsumerOptions): ConsumerConfig {
  const messageModel = o.messageModel ?? 'CLUSTERING';
  if (!MODELS.has(messageModel))
    throw new RmqError(ErrorCode.ILLEGAL_ARGUMENT, `unknown messageModel ${messageModel}`);
  const consumeFromWhere = o.consumeFromWhere ?? 'CONSUME_FROM_LAST_OFFSET';
  if (!WHERE.has(consumeFromWhere)) {
    throw new RmqError(ErrorCode.ILLEGAL_ARGUMENT, `unknown consumeFromWhere ${consumeFromWhere}`);
  }
  const consumeTimestamp = o.consumeTimestamp ?? formatTimestamp(Date.now() - 30 * 60 * 1000);
  parseTimestamp(consumeTimestamp);
  const group = checkGroupName('consumerGroup', o.consumerGroup);
  if (group === 'DEFAULT_CONSUMER') {
    throw new RmqError(
      ErrorCode.ILLEGAL_ARGUMENT,
      'consumerGroup can not equal DEFAULT_CONSUMER, please specify another one',
    );
  }
  return {
    // Upstream gives clustering consumers the pid as instance name; broadcasting ones keep DEFAULT.
    client: resolveClientConfig(o, messageModel === 'CLUSTERING'),
    consumerGroup: group,
    messageModel,
    consumeFromWhere,
    consumeTimestamp,
    allocateMessageQueueStrategy: o.allocateMessageQueueStrategy ?? allocateMessageQueueAveragely,
    offsetStoreDir:
      o.offsetStoreDir ??
      process.env.ROCKETMQ_CLIENT_LOCAL_OFFSET_STORE_DIR ??
      underHome('.rocketmq_offsets'),
  };
}

export function positiveInt(
  name: string,
  v: number | undefined,
  d: number,
  min = 1,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (v === undefined) return d;
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RmqError(
      ErrorCode.ILLEGAL_ARGUMENT,
      `${name} must be an integer in [${min}, ${max}], got ${v}`,
    );
  }
  return v;
}
