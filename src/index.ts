/**
 * rocketmq-ts public API: the client SDK (producer, consumers, admin), message types and errors.
 * Server-side code (NameServer, broker, store) is not exported from here.
 */
export { Message, type MessageBody, type MessageInit } from './client/message/message.js';
export { MessageExt } from './client/message/message-ext.js';
export { messageQueueToString, type MessageQueue } from './client/message/message-queue.js';
export type { ClientOptions } from './client/client-options.js';

export { Producer } from './client/producer/producer.js';
export type { ProducerOptions } from './client/producer/producer-options.js';
export { SendResult, SendStatus, type SendCallback } from './client/producer/send-result.js';
export {
  LocalTransactionState,
  TransactionProducer,
  TransactionSendResult,
  type LocalTransactionChecker,
  type LocalTransactionExecutor,
  type TransactionProducerOptions,
} from './client/producer/transaction-producer.js';
export {
  selectMessageQueueByHash,
  selectMessageQueueByRandom,
  type MessageQueueSelector,
} from './client/producer/message-queue-selector.js';

export { PushConsumer, type PushConsumerOptions } from './client/consumer/push-consumer.js';
export { LitePullConsumer, type LitePullConsumerOptions } from './client/consumer/lite-pull-consumer.js';
export type { ConsumerOptions } from './client/consumer/consumer-options.js';
export {
  ConsumeConcurrentlyStatus,
  type ConsumeConcurrentlyContext,
  type MessageListenerConcurrently,
} from './client/consumer/consume-concurrently-service.js';
export {
  ConsumeOrderlyStatus,
  type ConsumeOrderlyContext,
  type MessageListenerOrderly,
} from './client/consumer/consume-orderly-service.js';
export {
  allocateMessageQueueAveragely,
  allocateMessageQueueAveragelyByCircle,
  type AllocateMessageQueueStrategy,
} from './client/consumer/allocate-strategy.js';

export {
  Admin,
  type AdminOptions,
  type BrokerTarget,
  type CreateTopicOptions,
} from './client/admin/admin.js';

export type { ConsumeFromWhere, MessageModel, SubscriptionData } from './protocol/heartbeat.js';
export type { TopicRouteData, ClusterInfo, QueueData, BrokerData } from './protocol/route-data.js';
export type {
  ConsumeStats,
  ConsumerConnection,
  OffsetWrapper,
  SubscriptionGroupConfig,
  TopicOffset,
} from './protocol/admin-bodies.js';
export { ResponseCode } from './protocol/response-code.js';
export { RmqError, ErrorCode, type ErrorCodeValue } from './common/errors.js';
