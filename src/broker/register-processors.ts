/**
 * THE answer to "where is request code X handled": every RequestCode the broker may receive is
 * listed here, with its handler or an explicit reason it is not served (answered
 * REQUEST_CODE_NOT_SUPPORTED with that reason). test/broker/register-processors.test.ts walks the
 * whole code table and fails if a code is missing here.
 */
import type { RequestDispatcher } from '../remoting/dispatcher.js';
import { RequestCode, type RequestCodeName } from '../protocol/request-code.js';
import { clientManageHandlers } from './processors/client-manage-processor.js';
import { consumerManageHandlers } from './processors/consumer-manage-processor.js';
import { queryMessageHandlers } from './processors/query-message-processor.js';
import { adminOffsetHandlers } from './processors/admin-offset-processor.js';
import { adminTopicHandlers } from './processors/admin-topic-processor.js';
import { adminInspectHandlers } from './processors/admin-inspect-processor.js';
import { adminQueryHandlers } from './processors/admin-query-processor.js';
import { queryConsumeQueueHandler } from './processors/admin-consume-queue-processor.js';
import { adminMaintenanceHandlers } from './processors/admin-maintenance-processor.js';
import { consumerSendBackHandler } from './processors/consumer-send-back-processor.js';
import { endTransactionHandler } from './processors/end-transaction-processor.js';
import { lockBatchHandlers } from './processors/lock-batch-processor.js';
import { adminClientCallHandlers } from './processors/admin-client-call-processor.js';
import type { BrokerController } from './broker-controller.js';

const NAMESRV_ONLY = 'a NameServer request';
const TO_CLIENT = 'sent by brokers to clients';
const LEGACY = 'legacy request, not used by 4.x clients';

/** Codes deliberately not served, with the reason given to the caller. */
export const UNSUPPORTED: Partial<Record<RequestCodeName, string>> = {
  QUERY_BROKER_OFFSET: LEGACY,
  GET_TOPIC_CONFIG_LIST: LEGACY,
  GET_TOPIC_NAME_LIST: LEGACY,
  TRIGGER_DELETE_FILES: LEGACY,
  CHECK_TRANSACTION_STATE: TO_CLIENT,
  NOTIFY_CONSUMER_IDS_CHANGED: TO_CLIENT,
  RESET_CONSUMER_CLIENT_OFFSET: TO_CLIENT,
  GET_CONSUMER_STATUS_FROM_CLIENT: TO_CLIENT,
  PUSH_REPLY_MESSAGE_TO_CLIENT: TO_CLIENT,
  UPDATE_AND_CREATE_ACL_CONFIG: 'ACL is not supported yet',
  DELETE_ACL_CONFIG: 'ACL is not supported yet',
  GET_BROKER_CLUSTER_ACL_INFO: 'ACL is not supported yet',
  UPDATE_GLOBAL_WHITE_ADDRS_CONFIG: 'ACL is not supported yet',
  GET_BROKER_CLUSTER_ACL_CONFIG: 'ACL is not supported yet',
  PUT_KV_CONFIG: NAMESRV_ONLY,
  GET_KV_CONFIG: NAMESRV_ONLY,
  DELETE_KV_CONFIG: NAMESRV_ONLY,
  REGISTER_BROKER: NAMESRV_ONLY,
  UNREGISTER_BROKER: NAMESRV_ONLY,
  GET_ROUTEINFO_BY_TOPIC: NAMESRV_ONLY,
  GET_BROKER_CLUSTER_INFO: NAMESRV_ONLY,
  WIPE_WRITE_PERM_OF_BROKER: NAMESRV_ONLY,
  ADD_WRITE_PERM_OF_BROKER: NAMESRV_ONLY,
  GET_ALL_TOPIC_LIST_FROM_NAMESERVER: NAMESRV_ONLY,
  DELETE_TOPIC_IN_NAMESRV: NAMESRV_ONLY,
  GET_KV_CONFIG_BY_VALUE: NAMESRV_ONLY,
  DELETE_KV_CONFIG_BY_VALUE: NAMESRV_ONLY,
  GET_KVLIST_BY_NAMESPACE: NAMESRV_ONLY,
  GET_TOPICS_BY_CLUSTER: NAMESRV_ONLY,
  GET_SYSTEM_TOPIC_LIST_FROM_NS: NAMESRV_ONLY,
  GET_UNIT_TOPIC_LIST: NAMESRV_ONLY,
  GET_HAS_UNIT_SUB_TOPIC_LIST: NAMESRV_ONLY,
  GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST: NAMESRV_ONLY,
  UPDATE_NAMESRV_CONFIG: NAMESRV_ONLY,
  GET_NAMESRV_CONFIG: NAMESRV_ONLY,
  QUERY_DATA_VERSION: NAMESRV_ONLY,
  REGISTER_FILTER_SERVER: 'filter servers were removed from RocketMQ',
  REGISTER_MESSAGE_FILTER_CLASS: 'filter servers were removed from RocketMQ',
  SUSPEND_CONSUMER: LEGACY,
  RESUME_CONSUMER: LEGACY,
  RESET_CONSUMER_OFFSET_IN_CONSUMER: LEGACY,
  RESET_CONSUMER_OFFSET_IN_BROKER: LEGACY,
  ADJUST_CONSUMER_THREAD_POOL: LEGACY,
  WHO_CONSUME_THE_MESSAGE: LEGACY,
  SEND_REPLY_MESSAGE: 'request-reply messages are not supported yet',
  SEND_REPLY_MESSAGE_V2: 'request-reply messages are not supported yet',
};

export interface RegisterOptions {
  /** The VIP port (listenPort - 2) serves everything but PULL_MESSAGE, as upstream. */
  fastPort?: boolean;
}

export function registerBrokerProcessors(
  d: RequestDispatcher,
  b: BrokerController,
  options: RegisterOptions = {},
): void {
  const client = clientManageHandlers(b);
  const consumer = consumerManageHandlers(b);
  const query = queryMessageHandlers(b);
  const offsets = adminOffsetHandlers(b);
  const topics = adminTopicHandlers(b);
  const inspect = adminInspectHandlers(b);
  const maintenance = adminMaintenanceHandlers(b);
  const locks = lockBatchHandlers(b);
  const clientCalls = adminClientCallHandlers(b);
  const C = RequestCode;

  for (const [name, reason] of Object.entries(UNSUPPORTED)) {
    d.registerUnsupported(RequestCode[name as RequestCodeName], reason);
  }
  d.register(C.CLEAN_EXPIRED_CONSUMEQUEUE, maintenance.cleanExpiredConsumeQueue)
    .register(C.CLEAN_UNUSED_TOPIC, maintenance.cleanUnusedTopic)
    .register(C.DELETE_EXPIRED_COMMITLOG, maintenance.deleteExpiredCommitLog)
    .register(C.RESUME_CHECK_HALF_MESSAGE, maintenance.resumeCheckHalfMessage);
  d.register(C.SEND_MESSAGE, b.sendProcessor.handle)
    .register(C.SEND_MESSAGE_V2, b.sendProcessor.handle)
    .register(C.SEND_BATCH_MESSAGE, b.sendProcessor.handle)
    .register(C.QUERY_MESSAGE, query.queryMessage)
    .register(C.VIEW_MESSAGE_BY_ID, query.viewMessageById)
    .register(C.HEART_BEAT, client.heartbeat)
    .register(C.UNREGISTER_CLIENT, client.unregister)
    .register(C.CHECK_CLIENT_CONFIG, client.checkClientConfig)
    .register(C.GET_CONSUMER_LIST_BY_GROUP, consumer.getConsumerList)
    .register(C.UPDATE_CONSUMER_OFFSET, consumer.updateOffset)
    .register(C.QUERY_CONSUMER_OFFSET, consumer.queryOffset)
    .register(C.GET_MAX_OFFSET, offsets.getMaxOffset)
    .register(C.GET_MIN_OFFSET, offsets.getMinOffset)
    .register(C.SEARCH_OFFSET_BY_TIMESTAMP, offsets.searchOffset)
    .register(C.GET_EARLIEST_MSG_STORETIME, offsets.earliestStoreTime)
    .register(C.GET_ALL_CONSUMER_OFFSET, offsets.allConsumerOffsets)
    .register(C.GET_ALL_DELAY_OFFSET, offsets.allDelayOffsets)
    .register(C.UPDATE_AND_CREATE_TOPIC, topics.createTopic)
    .register(C.DELETE_TOPIC_IN_BROKER, topics.deleteTopic)
    .register(C.GET_ALL_TOPIC_CONFIG, topics.allTopicConfig)
    .register(C.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, topics.createGroup)
    .register(C.DELETE_SUBSCRIPTIONGROUP, topics.deleteGroup)
    .register(C.GET_ALL_SUBSCRIPTIONGROUP_CONFIG, topics.allGroupConfig)
    .register(C.GET_SYSTEM_TOPIC_LIST_FROM_BROKER, topics.systemTopics)
    .register(C.GET_BROKER_RUNTIME_INFO, inspect.runtimeInfo)
    .register(C.GET_TOPIC_STATS_INFO, inspect.topicStats)
    .register(C.GET_CONSUMER_CONNECTION_LIST, inspect.consumerConnections)
    .register(C.GET_PRODUCER_CONNECTION_LIST, inspect.producerConnections)
    .register(C.GET_CONSUME_STATS, inspect.consumeStats)
    .register(C.QUERY_TOPIC_CONSUME_BY_WHO, inspect.consumeByWho)
    .register(C.GET_BROKER_CONFIG, inspect.getConfig)
    .register(C.UPDATE_BROKER_CONFIG, inspect.updateConfig)
    .register(C.CONSUMER_SEND_MSG_BACK, consumerSendBackHandler(b))
    .register(C.END_TRANSACTION, endTransactionHandler(b))
    .register(C.LOCK_BATCH_MQ, locks.lock)
    .register(C.UNLOCK_BATCH_MQ, locks.unlock)
    .register(C.GET_CONSUMER_RUNNING_INFO, clientCalls.runningInfo)
    .register(C.CONSUME_MESSAGE_DIRECTLY, clientCalls.consumeMessageDirectly)
    .register(C.INVOKE_BROKER_TO_RESET_OFFSET, clientCalls.resetOffset)
    .register(C.INVOKE_BROKER_TO_GET_CONSUMER_STATUS, clientCalls.consumerStatus);

  const adminQuery = adminQueryHandlers(b);
  d.register(C.QUERY_CONSUME_TIME_SPAN, adminQuery.consumeTimeSpan)
    .register(C.QUERY_CORRECTION_OFFSET, adminQuery.correctionOffset)
    .register(C.CLONE_GROUP_OFFSET, adminQuery.cloneGroupOffset)
    .register(C.VIEW_BROKER_STATS_DATA, adminQuery.viewStats)
    .register(C.GET_BROKER_CONSUME_STATS, adminQuery.brokerConsumeStats)
    .register(C.QUERY_CONSUME_QUEUE, queryConsumeQueueHandler(b))
    .register(C.GET_ALL_PRODUCER_INFO, adminQuery.allProducerInfo);

  if (options.fastPort) d.registerUnsupported(C.PULL_MESSAGE, 'pull on the main port, not the VIP port');
  else d.register(C.PULL_MESSAGE, b.pullProcessor.handle);
}
