/**
 * The flags of each mqbench tool: upstream's benchmark flags (4.9.8, plus `-ri` from later
 * versions) with their defaults, and a few of ours, marked below. Upstream's tools run Java
 * threads; here `-w` is the number of sends (or listener calls) in flight from one process.
 *
 * Flags that clash between upstream versions follow 4.9.8: in `producer`, `-c` is the tag count
 * (as the issue names it; 4.9.8 has no `-c` there) besides upstream's `-l`; in `batchproducer`,
 * `-c` / `-e` are the ACL keys as in 4.9.8, so its tag count is `-l` only.
 */
import { RmqError, ErrorCode } from '../../common/errors.js';
import {
  OptionParser,
  intOption,
  javaBoolean,
  numberOption,
  type OptionSpec,
  type ParsedOptions,
} from '../option-parser.js';
import { parseStopRule, type StopRule } from './stats.js';

const opt = (short: string, long: string, description: string): OptionSpec => ({
  short,
  long,
  hasArg: true,
  description,
});

const common: OptionSpec[] = [
  { short: 'h', long: 'help', hasArg: false, description: 'Print help' },
  opt('n', 'namesrvAddr', "Name server address list, eg: '192.168.0.1:9876;192.168.0.2:9876'"),
  opt('t', 'topic', 'Topic name, Default: BenchmarkTest'),
  opt('m', 'msgTraceEnable', 'Message Trace Enable, Default: false (true is not supported yet)'),
  opt('a', 'aclEnable', 'Acl Enable, Default: false (true is not supported yet)'),
  opt('ri', 'reportInterval', 'The number of ms between reports, Default: 10000'),
  // Ours: upstream's tools always use the ROCKETMQ binary header; so do we unless told.
  opt('st', 'serializeType', 'Request header encoding, JSON or ROCKETMQ, Default: ROCKETMQ'),
];

const producerSpecs: OptionSpec[] = [
  ...common,
  opt('w', 'threadCount', 'Sends in flight (upstream: sender threads), Default: 64'),
  opt('s', 'messageSize', 'Message Size, Default: 128'),
  opt('k', 'keyEnable', 'Message Key Enable, Default: false'),
  opt('l', 'tagCount', 'Tag count, Default: 0'),
  opt('c', 'tags', 'Tag count (same as -l), Default: 0'),
  opt('p', 'propertySize', 'Property Size, Default: 0'),
  opt('ak', 'accessKey', 'Acl access key, Default: 12345678'),
  opt('sk', 'secretKey', 'Acl secret key, Default: rocketmq2'),
  opt('q', 'messageQuantity', 'Messages to send, or a duration (10s, 2m), Default: 0, running forever'),
  opt('d', 'delayEnable', 'Delay message Enable, Default: false'),
  opt('e', 'delayLevel', 'Delay message level, Default: 1'),
  opt('y', 'asyncEnable', 'Enable async produce (sendAsync), Default: false'),
  // Ours: the SDK's opt-in coalescing of sends into SEND_BATCH_MESSAGE.
  opt(
    'ab',
    'autoBatch',
    'Coalesce sends into batches: false, true or max messages per batch, Default: false',
  ),
];

const consumerSpecs: OptionSpec[] = [
  ...common,
  opt('w', 'threadCount', 'Listener calls in flight (upstream: consume threads), Default: 20'),
  opt('g', 'group', 'Consumer group name, Default: benchmark_consumer'),
  opt('p', 'groupSuffixEnable', 'Is group prefix enable, Default: false'),
  opt('f', 'filterType', 'TAG, SQL92 (SQL92 is not supported by the broker yet)'),
  opt('e', 'expression', 'filter expression content file path.ie: ./test/expr'),
  opt('r', 'failRate', 'consumer fail rate, default 0'),
  opt('ak', 'accessKey', 'Acl access key, Default: 12345678'),
  opt('sk', 'secretKey', 'Acl secret key, Default: rocketmq2'),
  // Ours: upstream's consumer runs until interrupted.
  opt('q', 'messageQuantity', 'Stop after this many messages, or a duration (10s, 2m), Default: 0, forever'),
  opt('cf', 'consumeFromWhere', 'CONSUME_FROM_LAST_OFFSET or CONSUME_FROM_FIRST_OFFSET, Default: last'),
  opt('bs', 'consumeBatchSize', 'Messages per listener call (consumeMessageBatchMaxSize), Default: 1'),
];

const tproducerSpecs: OptionSpec[] = [
  ...common,
  opt('w', 'threadCount', 'Transactions in flight (upstream: threads), Default: 32'),
  opt('s', 'messageSize', 'Message Size, Default: 2048'),
  opt('sr', 'sendRollbackRate', 'Send rollback rate, Default: 0.0'),
  opt('su', 'sendUnknownRate', 'Send unknown rate, Default: 0.0'),
  opt('cr', 'checkRollbackRate', 'Check rollback rate, Default: 0.0'),
  opt('cu', 'checkUnknownRate', 'Check unknown rate, Default: 0.0'),
  opt('b', 'batchId', 'test batch id, Default: System.currentMillis()'),
  opt('i', 'sendInterval', 'sleep interval in millis between messages, Default: 0'),
  opt('ak', 'accessKey', 'Acl access key, Default: 12345678'),
  opt('sk', 'secretKey', 'Acl secret key, Default: rocketmq2'),
  opt('q', 'messageQuantity', 'Transactions to send, or a duration (10s, 2m), Default: 0, forever'),
];

const batchSpecs: OptionSpec[] = [
  ...common,
  opt('w', 'threadCount', 'Batches in flight (upstream: threads), Default: 64'),
  opt('s', 'messageSize', 'Message Size, Default: 128'),
  opt('b', 'batchSize', 'Batch Size, Default: 16'),
  opt('k', 'keyEnable', 'Message Key Enable, Default: false'),
  opt('l', 'tagCount', 'Tag count, Default: 0'),
  opt('p', 'propertySize', 'Property Size, Default: 0'),
  opt('c', 'accessKey', 'Acl Access Key, Default: rocketmq2'),
  opt('e', 'secretKey', 'Acl Secret Key, Default: 123456789'),
  opt('q', 'messageQuantity', 'Messages to send, or a duration (10s, 2m), Default: 0, forever'),
];

export const TOOLS = {
  producer: new OptionParser(producerSpecs),
  consumer: new OptionParser(consumerSpecs),
  tproducer: new OptionParser(tproducerSpecs),
  batchproducer: new OptionParser(batchSpecs),
} as const;
export type ToolName = keyof typeof TOOLS;

function bad(message: string): RmqError {
  return new RmqError(ErrorCode.ILLEGAL_ARGUMENT, message);
}

export interface CommonConfig {
  namesrvAddr: string | undefined;
  topic: string;
  reportIntervalMs: number;
  serializeType: 'JSON' | 'ROCKETMQ';
  stop: StopRule;
}

function commonConfig(o: ParsedOptions): CommonConfig {
  if (javaBoolean(o.value('m'))) throw bad('message trace (-m true) is not supported by rocketmq-ts yet');
  if (javaBoolean(o.value('a'))) throw bad('ACL signing (-a true) is not supported by rocketmq-ts yet');
  const st = (o.value('st') ?? 'ROCKETMQ').toUpperCase();
  if (st !== 'JSON' && st !== 'ROCKETMQ') throw bad(`-st must be JSON or ROCKETMQ, got ${st}`);
  const reportIntervalMs = intOption(o, 'ri', 10000);
  if (reportIntervalMs <= 0) throw bad('-ri must be a positive number of ms');
  let stop: StopRule;
  try {
    stop = parseStopRule(o.value('q'));
  } catch (err) {
    throw bad(`-q: ${(err as Error).message}`);
  }
  return {
    namesrvAddr: o.value('n'),
    topic: o.value('t') ?? 'BenchmarkTest',
    reportIntervalMs,
    serializeType: st,
    stop,
  };
}

function positive(name: string, v: number, min = 1): number {
  if (v < min) throw bad(`-${name} must be at least ${min}, got ${v}`);
  return v;
}

export interface AutoBatchSetting {
  maxMessages: number;
}

export interface ProducerBenchConfig extends CommonConfig {
  inFlight: number;
  messageSize: number;
  keyEnable: boolean;
  tagCount: number;
  propertySize: number;
  delayEnable: boolean;
  delayLevel: number;
  asyncEnable: boolean;
  autoBatch: AutoBatchSetting | false;
}

export function producerConfig(o: ParsedOptions): ProducerBenchConfig {
  const ab = o.value('ab');
  let autoBatch: AutoBatchSetting | false = false;
  if (ab !== undefined && ab.toLowerCase() !== 'false') {
    if (ab.toLowerCase() === 'true') autoBatch = { maxMessages: 128 };
    else if (/^\d+$/.test(ab) && Number(ab) >= 1) autoBatch = { maxMessages: Number(ab) };
    else throw bad(`-ab must be true, false or a message count, got ${ab}`);
  }
  return {
    ...commonConfig(o),
    inFlight: positive('w', intOption(o, 'w', 64)),
    messageSize: positive('s', intOption(o, 's', 128)),
    keyEnable: javaBoolean(o.value('k')),
    tagCount: positive('l', intOption(o, 'l', intOption(o, 'c', 0)), 0),
    propertySize: positive('p', intOption(o, 'p', 0), 0),
    delayEnable: javaBoolean(o.value('d')),
    delayLevel: positive('e', intOption(o, 'e', 1)),
    asyncEnable: javaBoolean(o.value('y')),
    autoBatch,
  };
}

export interface ConsumerBenchConfig extends CommonConfig {
  concurrency: number;
  group: string;
  filterType: string | undefined;
  expressionFile: string | undefined;
  failRate: number;
  consumeFromWhere: 'CONSUME_FROM_LAST_OFFSET' | 'CONSUME_FROM_FIRST_OFFSET';
  consumeBatchSize: number;
}

export function consumerConfig(o: ParsedOptions): ConsumerBenchConfig {
  const prefix = o.value('g') ?? 'benchmark_consumer';
  const group = javaBoolean(o.value('p')) ? `${prefix}_${Date.now() % 100}` : prefix;
  const cf = (o.value('cf') ?? 'CONSUME_FROM_LAST_OFFSET').toUpperCase();
  if (cf !== 'CONSUME_FROM_LAST_OFFSET' && cf !== 'CONSUME_FROM_FIRST_OFFSET') {
    throw bad(`-cf must be CONSUME_FROM_LAST_OFFSET or CONSUME_FROM_FIRST_OFFSET, got ${cf}`);
  }
  const failRate = numberOption(o, 'r', 0);
  if (failRate < 0 || failRate > 1) throw bad(`-r must be between 0 and 1, got ${failRate}`);
  return {
    ...commonConfig(o),
    concurrency: positive('w', intOption(o, 'w', 20)),
    group,
    filterType: o.value('f'),
    expressionFile: o.value('e'),
    failRate,
    consumeFromWhere: cf,
    consumeBatchSize: positive('bs', intOption(o, 'bs', 1)),
  };
}

export interface TransactionBenchConfig extends CommonConfig {
  inFlight: number;
  messageSize: number;
  sendRollbackRate: number;
  sendUnknownRate: number;
  checkRollbackRate: number;
  checkUnknownRate: number;
  batchId: number;
  sendIntervalMs: number;
}

export function tproducerConfig(o: ParsedOptions): TransactionBenchConfig {
  const rate = (name: string): number => {
    const v = numberOption(o, name, 0);
    if (v < 0 || v > 1) throw bad(`-${name} must be between 0 and 1, got ${v}`);
    return v;
  };
  return {
    ...commonConfig(o),
    inFlight: positive('w', intOption(o, 'w', 32)),
    // The body carries the batch id, a message id and 21 outcome bytes.
    messageSize: positive('s', intOption(o, 's', 2048), 37),
    sendRollbackRate: rate('sr'),
    sendUnknownRate: rate('su'),
    checkRollbackRate: rate('cr'),
    checkUnknownRate: rate('cu'),
    batchId: intOption(o, 'b', Date.now()),
    sendIntervalMs: positive('i', intOption(o, 'i', 0), 0),
  };
}

export interface BatchBenchConfig extends CommonConfig {
  inFlight: number;
  messageSize: number;
  batchSize: number;
  keyEnable: boolean;
  tagCount: number;
  propertySize: number;
}

export function batchProducerConfig(o: ParsedOptions): BatchBenchConfig {
  const c = commonConfig(o);
  return {
    ...c,
    // 4.9.8's batch tool alone defaults the NameServer when -n is absent.
    namesrvAddr: c.namesrvAddr ?? process.env.NAMESRV_ADDR ?? '127.0.0.1:9876',
    inFlight: positive('w', intOption(o, 'w', 64)),
    messageSize: positive('s', intOption(o, 's', 128)),
    batchSize: positive('b', intOption(o, 'b', 16)),
    keyEnable: javaBoolean(o.value('k')),
    tagCount: positive('l', intOption(o, 'l', 0), 0),
    propertySize: positive('p', intOption(o, 'p', 0), 0),
  };
}
