/** Producer options: upstream DefaultMQProducer's names and defaults. */
import { RmqError, ErrorCode } from '../../common/errors.js';
import { SystemTopic } from '../../common/message/message-const.js';
import { ResponseCode } from '../../protocol/response-code.js';
import type { AutoBatchConfig, AutoBatchOptions } from './auto-batcher.js';
import {
  checkGroupName,
  resolveClientConfig,
  type ClientConfig,
  type ClientOptions,
} from '../client-options.js';

export interface ProducerOptions extends ClientOptions {
  producerGroup: string;
  /** Template topic for auto-created topics (TBW102). */
  createTopicKey?: string;
  /** Queues of a topic the broker auto-creates for us (4). */
  defaultTopicQueueNums?: number;
  /** Time budget of one send, retries included (3000 ms). */
  sendMsgTimeout?: number;
  /** Bodies of at least this many bytes are zlib-compressed (4096). */
  compressMsgBodyOverHowmuch?: number;
  /** zlib level (5). */
  compressLevel?: number;
  /** Extra attempts of `send` on another queue when one fails (2). */
  retryTimesWhenSendFailed?: number;
  /** Extra attempts of `sendAsync` (2). */
  retryTimesWhenSendAsyncFailed?: number;
  /** Also retry when the broker stored the message but reported a flush/slave problem (false). */
  retryAnotherBrokerWhenNotStoreOK?: boolean;
  /** Largest body accepted (4 MiB). */
  maxMessageSize?: number;
  /** Avoid brokers that failed or answered slowly for a while (true; upstream's default is false). */
  sendLatencyFaultEnable?: boolean;
  /** Broker response codes after which a send is retried on another queue. */
  retryResponseCodes?: readonly number[];
  /**
   * Coalesce single messages sent in the same tick to the same topic into SEND_BATCH_MESSAGE
   * requests (off by default; see auto-batcher.ts for what is taken and how it is stored).
   * `true` = { maxMessages: 128, maxBytes: 512 KiB }.
   */
  autoBatch?: boolean | AutoBatchOptions;
}

export interface ProducerConfig {
  client: ClientConfig;
  producerGroup: string;
  createTopicKey: string;
  defaultTopicQueueNums: number;
  sendMsgTimeout: number;
  compressMsgBodyOverHowmuch: number;
  compressLevel: number;
  retryTimesWhenSendFailed: number;
  retryTimesWhenSendAsyncFailed: number;
  retryAnotherBrokerWhenNotStoreOK: boolean;
  maxMessageSize: number;
  sendLatencyFaultEnable: boolean;
  retryResponseCodes: ReadonlySet<number>;
  autoBatch: AutoBatchConfig | undefined;
}

const DEFAULT_RETRY_CODES = [
  ResponseCode.TOPIC_NOT_EXIST,
  ResponseCode.SERVICE_NOT_AVAILABLE,
  ResponseCode.SYSTEM_ERROR,
  ResponseCode.SYSTEM_BUSY,
  ResponseCode.NO_PERMISSION,
  ResponseCode.NO_BUYER_ID,
  ResponseCode.NOT_IN_CURRENT_UNIT,
];

function int(
  name: string,
  v: number | undefined,
  d: number,
  min: number,
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

function autoBatchConfig(
  o: ProducerOptions['autoBatch'],
  maxMessageSize: number,
): AutoBatchConfig | undefined {
  if (!o) return undefined;
  const given = o === true ? {} : o;
  return {
    maxMessages: int('autoBatch.maxMessages', given.maxMessages, 128, 1, 10000),
    maxBytes: Math.min(int('autoBatch.maxBytes', given.maxBytes, 512 * 1024, 1), maxMessageSize),
  };
}

export function resolveProducerOptions(o: ProducerOptions): ProducerConfig {
  const maxMessageSize = int('maxMessageSize', o.maxMessageSize, 4 * 1024 * 1024, 1);
  return {
    client: resolveClientConfig(o, true),
    producerGroup: checkGroupName('producerGroup', o.producerGroup),
    createTopicKey: o.createTopicKey ?? SystemTopic.AUTO_CREATE_TOPIC_KEY,
    defaultTopicQueueNums: int('defaultTopicQueueNums', o.defaultTopicQueueNums, 4, 1, 1024),
    sendMsgTimeout: int('sendMsgTimeout', o.sendMsgTimeout, 3000, 1),
    compressMsgBodyOverHowmuch: int('compressMsgBodyOverHowmuch', o.compressMsgBodyOverHowmuch, 4096, 0),
    compressLevel: int('compressLevel', o.compressLevel, 5, 0, 9),
    retryTimesWhenSendFailed: int('retryTimesWhenSendFailed', o.retryTimesWhenSendFailed, 2, 0, 100),
    retryTimesWhenSendAsyncFailed: int(
      'retryTimesWhenSendAsyncFailed',
      o.retryTimesWhenSendAsyncFailed,
      2,
      0,
      100,
    ),
    retryAnotherBrokerWhenNotStoreOK: o.retryAnotherBrokerWhenNotStoreOK ?? false,
    maxMessageSize,
    sendLatencyFaultEnable: o.sendLatencyFaultEnable ?? true,
    retryResponseCodes: new Set(o.retryResponseCodes ?? DEFAULT_RETRY_CODES),
    autoBatch: autoBatchConfig(o.autoBatch, maxMessageSize),
  };
}
