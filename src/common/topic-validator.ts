/**
 * Topic (and group) name rules of RocketMQ 4.x: characters `^[%|a-zA-Z0-9_-]+$`, at most 127
 * characters; system topics may not be created by users, some may not be sent to at all.
 * The answers carry upstream's remarks.
 */
import { SYSTEM_TOPIC_PREFIX, SystemTopic } from './message/message-const.js';

export const TOPIC_MAX_LENGTH = 127;
const VALID = /^[%|a-zA-Z0-9_-]+$/;

const SYSTEM_TOPICS = new Set<string>([
  SystemTopic.AUTO_CREATE_TOPIC_KEY,
  SystemTopic.SCHEDULE_TOPIC,
  SystemTopic.BENCHMARK_TOPIC,
  SystemTopic.TRANS_HALF_TOPIC,
  SystemTopic.TRACE_TOPIC,
  SystemTopic.TRANS_OP_HALF_TOPIC,
  SystemTopic.TRANS_CHECK_MAX_TIME_TOPIC,
  SystemTopic.SELF_TEST_TOPIC,
  SystemTopic.OFFSET_MOVED_EVENT,
]);

const NOT_ALLOWED_SEND = new Set<string>([
  SystemTopic.SCHEDULE_TOPIC,
  SystemTopic.TRANS_HALF_TOPIC,
  SystemTopic.TRANS_OP_HALF_TOPIC,
  SystemTopic.TRANS_CHECK_MAX_TIME_TOPIC,
  SystemTopic.SELF_TEST_TOPIC,
  SystemTopic.OFFSET_MOVED_EVENT,
]);

export function isTopicOrGroupIllegal(name: string): boolean {
  return !VALID.test(name);
}

/** Undefined when the topic name is acceptable, else upstream's remark. */
export function validateTopic(topic: string | undefined): string | undefined {
  if (!topic || topic.trim() === '') return 'The specified topic is blank.';
  if (isTopicOrGroupIllegal(topic)) {
    return 'The specified topic contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$';
  }
  if (topic.length > TOPIC_MAX_LENGTH) return 'The specified topic is longer than topic max length.';
  return undefined;
}

/** System topics; `extra` holds a broker's own (cluster name, broker name, reply topic...). */
export function isSystemTopic(topic: string, extra?: ReadonlySet<string>): boolean {
  return SYSTEM_TOPICS.has(topic) || topic.startsWith(SYSTEM_TOPIC_PREFIX) || (extra?.has(topic) ?? false);
}

export function isNotAllowedSendTopic(topic: string): boolean {
  return NOT_ALLOWED_SEND.has(topic);
}
