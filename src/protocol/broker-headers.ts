/**
 * Custom headers of the broker's requests and responses, with upstream's field names
 * (`!` in upstream = required here). SEND_MESSAGE_V2 / SEND_BATCH_MESSAGE carry the same fields as
 * SEND_MESSAGE under one-letter names; both descriptors decode to the same shape.
 */
import { defineHeader, optional, required, type HeaderOf } from './header.js';

const sendFields = {
  producerGroup: required('string'),
  topic: required('string'),
  defaultTopic: required('string'),
  defaultTopicQueueNums: required('int'),
  queueId: required('int'),
  sysFlag: required('int'),
  bornTimestamp: required('long'),
  flag: required('int'),
  properties: optional('string'),
  reconsumeTimes: optional('int'),
  unitMode: optional('bool'),
  batch: optional('bool'),
  maxReconsumeTimes: optional('int'),
  bname: optional('string'),
};
export const SendMessageRequestHeader = defineHeader('SendMessageRequestHeader', sendFields);
export type SendMessageRequest = HeaderOf<typeof sendFields>;

export const SendMessageRequestHeaderV2 = defineHeader('SendMessageRequestHeaderV2', {
  producerGroup: required('string', 'a'),
  topic: required('string', 'b'),
  defaultTopic: required('string', 'c'),
  defaultTopicQueueNums: required('int', 'd'),
  queueId: required('int', 'e'),
  sysFlag: required('int', 'f'),
  bornTimestamp: required('long', 'g'),
  flag: required('int', 'h'),
  properties: optional('string', 'i'),
  reconsumeTimes: optional('int', 'j'),
  unitMode: optional('bool', 'k'),
  maxReconsumeTimes: optional('int', 'l'),
  batch: optional('bool', 'm'),
  bname: optional('string', 'n'),
});

export const SendMessageResponseHeader = defineHeader('SendMessageResponseHeader', {
  msgId: required('string'),
  queueId: required('int'),
  queueOffset: required('long'),
  transactionId: optional('string'),
  MSG_REGION: optional('string'),
  TRACE_ON: optional('string'),
});

export const PullMessageRequestHeader = defineHeader('PullMessageRequestHeader', {
  consumerGroup: required('string'),
  topic: required('string'),
  queueId: required('int'),
  queueOffset: required('long'),
  maxMsgNums: required('int'),
  sysFlag: required('int'),
  commitOffset: required('long'),
  suspendTimeoutMillis: required('long'),
  subscription: optional('string'),
  subVersion: required('long'),
  expressionType: optional('string'),
  bname: optional('string'),
});
export type PullMessageRequest = HeaderOf<typeof PullMessageRequestHeader.fields>;

export const PullMessageResponseHeader = defineHeader('PullMessageResponseHeader', {
  suggestWhichBrokerId: required('long'),
  nextBeginOffset: required('long'),
  minOffset: required('long'),
  maxOffset: required('long'),
});

/** PullSysFlag bits. */
export const PullSysFlag = {
  COMMIT_OFFSET: 0x1,
  SUSPEND: 0x2,
  SUBSCRIPTION: 0x4,
  CLASS_FILTER: 0x8,
  LITE_PULL: 0x10,
} as const;

export const QueryConsumerOffsetRequestHeader = defineHeader('QueryConsumerOffsetRequestHeader', {
  consumerGroup: required('string'),
  topic: required('string'),
  queueId: required('int'),
});

export const OffsetResponseHeader = defineHeader('OffsetResponseHeader', {
  offset: required('long'),
});

export const UpdateConsumerOffsetRequestHeader = defineHeader('UpdateConsumerOffsetRequestHeader', {
  consumerGroup: required('string'),
  topic: required('string'),
  queueId: required('int'),
  commitOffset: required('long'),
});

export const TopicQueueRequestHeader = defineHeader('GetMaxOffsetRequestHeader', {
  topic: required('string'),
  queueId: required('int'),
});

export const SearchOffsetRequestHeader = defineHeader('SearchOffsetRequestHeader', {
  topic: required('string'),
  queueId: required('int'),
  timestamp: required('long'),
});

export const GetEarliestMsgStoretimeResponseHeader = defineHeader('GetEarliestMsgStoretimeResponseHeader', {
  timestamp: required('long'),
});

export const ViewMessageRequestHeader = defineHeader('ViewMessageRequestHeader', {
  offset: required('long'),
});

export const QueryMessageRequestHeader = defineHeader('QueryMessageRequestHeader', {
  topic: required('string'),
  key: required('string'),
  maxNum: required('int'),
  beginTimestamp: required('long'),
  endTimestamp: required('long'),
});

export const QueryMessageResponseHeader = defineHeader('QueryMessageResponseHeader', {
  indexLastUpdateTimestamp: required('long'),
  indexLastUpdatePhyoffset: required('long'),
});

/** extFields flag on QUERY_MESSAGE: the key is a UNIQ_KEY. */
export const UNIQUE_MSG_QUERY_FLAG = '_UNIQUE_KEY_QUERY';

export const UnregisterClientRequestHeader = defineHeader('UnregisterClientRequestHeader', {
  clientID: required('string'),
  producerGroup: optional('string'),
  consumerGroup: optional('string'),
});

export const ConsumerSendMsgBackRequestHeader = defineHeader('ConsumerSendMsgBackRequestHeader', {
  offset: required('long'),
  group: required('string'),
  delayLevel: required('int'),
  originMsgId: optional('string'),
  originTopic: optional('string'),
  unitMode: optional('bool'),
  maxReconsumeTimes: optional('int'),
  bname: optional('string'),
});

export const EndTransactionRequestHeader = defineHeader('EndTransactionRequestHeader', {
  producerGroup: required('string'),
  tranStateTableOffset: required('long'),
  commitLogOffset: required('long'),
  commitOrRollback: required('int'),
  fromTransactionCheck: optional('bool'),
  msgId: required('string'),
  transactionId: optional('string'),
});

export const CheckTransactionStateRequestHeader = defineHeader('CheckTransactionStateRequestHeader', {
  tranStateTableOffset: required('long'),
  commitLogOffset: required('long'),
  msgId: optional('string'),
  transactionId: optional('string'),
  offsetMsgId: optional('string'),
  bname: optional('string'),
});

export const ConsumerGroupRequestHeader = defineHeader('GetConsumerListByGroupRequestHeader', {
  consumerGroup: required('string'),
});

export const GetProducerConnectionListRequestHeader = defineHeader('GetProducerConnectionListRequestHeader', {
  producerGroup: required('string'),
});

export const CreateTopicRequestHeader = defineHeader('CreateTopicRequestHeader', {
  topic: required('string'),
  defaultTopic: required('string'),
  readQueueNums: required('int'),
  writeQueueNums: required('int'),
  perm: required('int'),
  topicFilterType: required('string'),
  topicSysFlag: optional('int'),
  order: required('bool'),
});

export const TopicRequestHeader = defineHeader('DeleteTopicRequestHeader', {
  topic: required('string'),
});

export const DeleteSubscriptionGroupRequestHeader = defineHeader('DeleteSubscriptionGroupRequestHeader', {
  groupName: required('string'),
  removeOffset: optional('bool'),
});

export const GetConsumeStatsRequestHeader = defineHeader('GetConsumeStatsRequestHeader', {
  consumerGroup: required('string'),
  topic: optional('string'),
});

export const GetConsumerRunningInfoRequestHeader = defineHeader('GetConsumerRunningInfoRequestHeader', {
  consumerGroup: required('string'),
  clientId: required('string'),
  jstackEnable: optional('bool'),
});

export const ConsumeMessageDirectlyResultRequestHeader = defineHeader(
  'ConsumeMessageDirectlyResultRequestHeader',
  {
    consumerGroup: required('string'),
    clientId: optional('string'),
    msgId: optional('string'),
    brokerName: optional('string'),
  },
);

export const ResetOffsetRequestHeader = defineHeader('ResetOffsetRequestHeader', {
  topic: required('string'),
  group: required('string'),
  timestamp: required('long'),
  isForce: required('bool'),
});

export const GetConsumerStatusRequestHeader = defineHeader('GetConsumerStatusRequestHeader', {
  topic: required('string'),
  group: required('string'),
  clientAddr: optional('string'),
});

export const QueryConsumeQueueRequestHeader = defineHeader('QueryConsumeQueueRequestHeader', {
  topic: required('string'),
  queueId: required('int'),
  index: required('long'),
  count: required('int'),
  consumerGroup: optional('string'),
});

export const QueryTopicConsumeByWhoRequestHeader = defineHeader('QueryTopicConsumeByWhoRequestHeader', {
  topic: required('string'),
});

export const QueryConsumeTimeSpanRequestHeader = defineHeader('QueryConsumeTimeSpanRequestHeader', {
  topic: required('string'),
  group: required('string'),
});

export const CloneGroupOffsetRequestHeader = defineHeader('CloneGroupOffsetRequestHeader', {
  srcGroup: required('string'),
  destGroup: required('string'),
  topic: optional('string'),
  offline: optional('bool'),
});

export const GetConsumeStatsInBrokerHeader = defineHeader('GetConsumeStatsInBrokerHeader', {
  isOrder: required('bool'),
});

export const QueryCorrectionOffsetHeader = defineHeader('QueryCorrectionOffsetHeader', {
  filterGroups: optional('string'),
  compareGroup: required('string'),
  topic: required('string'),
});

export const ViewBrokerStatsDataRequestHeader = defineHeader('ViewBrokerStatsDataRequestHeader', {
  statsName: required('string'),
  statsKey: required('string'),
});
