/**
 * Store maintenance an admin triggers (upstream AdminBrokerProcessor):
 * - CLEAN_EXPIRED_CONSUMEQUEUE (306): the store drops ConsumeQueues that point only below the
 *   CommitLog minimum and corrects the minimum of the others.
 * - CLEAN_UNUSED_TOPIC (316): the store drops the ConsumeQueues of topics this broker no longer
 *   configures (the transaction and schedule queues stay).
 * - DELETE_EXPIRED_COMMITLOG (329): the next clean passes delete expired CommitLog segments
 *   whatever the hour (deleteWhen); nothing is deleted during the request itself.
 * - RESUME_CHECK_HALF_MESSAGE (323): the message at the msgId's CommitLog offset (a half message,
 *   or its copy discarded to TRANS_CHECK_MAX_TIME_TOPIC after transactionCheckMax checks) is stored
 *   again in the half topic with TRANSACTION_CHECK_TIMES=0, so the check service asks its producer
 *   group about it again. The remarks on failure are upstream's.
 * All answer SUCCESS with no body; none is refused on a slave (as upstream), though a slave's
 * store refuses the put of a resume.
 */
import { errorMessage } from '../../common/errors.js';
import { MessageProperty, SystemTopic } from '../../common/message/message-const.js';
import { decodeOffsetMsgId } from '../../common/message/message-id.js';
import type { MessageExt } from '../../common/message/message-record.js';
import { encodeProperties } from '../../common/message/message-properties.js';
import { MessageSysFlag, resetTransactionValue } from '../../common/message/message-sysflag.js';
import type { RequestHandler } from '../../remoting/dispatcher.js';
import { ResponseCode } from '../../protocol/response-code.js';
import { ResumeCheckHalfMessageRequestHeader } from '../../protocol/admin-maintenance-headers.js';
import { decodeHeader, failure, isErrorResponse, success } from '../../protocol/request-helpers.js';
import { PutMessageStatus } from '../../store/store-types.js';
import type { BrokerController } from '../broker-controller.js';

const HALF = SystemTopic.TRANS_HALF_TOPIC;
const PUT_FAILED = `Put message back to ${HALF} failed.`;
const LOOKUP_FAILED = `Exception was thrown when putting message back to ${HALF}.`;

export function adminMaintenanceHandlers(
  b: BrokerController,
): Record<
  'cleanExpiredConsumeQueue' | 'cleanUnusedTopic' | 'deleteExpiredCommitLog' | 'resumeCheckHalfMessage',
  RequestHandler
> {
  return {
    cleanExpiredConsumeQueue: async (request, ctx) => {
      b.log.warn({ peer: ctx.channel.remoteAddress }, 'cleanExpiredConsumeQueue start');
      const r = await b.store.cleanExpiredConsumerQueue();
      b.log.warn({ destroyed: r.destroyed, topicsRemoved: r.topicsRemoved }, 'cleanExpiredConsumeQueue end');
      return success(request);
    },

    cleanUnusedTopic: async (request, ctx) => {
      b.log.warn({ peer: ctx.channel.remoteAddress }, 'cleanUnusedTopic start');
      const configured = new Set<string>();
      for (const tc of b.topics.all()) configured.add(tc.topicName);
      const removed = await b.store.cleanUnusedTopic(configured);
      b.log.warn({ removed }, 'cleanUnusedTopic end');
      return success(request);
    },

    deleteExpiredCommitLog: (request, ctx) => {
      b.log.warn({ peer: ctx.channel.remoteAddress }, 'deleteExpiredCommitLog: manual deletion armed');
      b.store.executeDeleteFilesManually();
      return success(request);
    },

    resumeCheckHalfMessage: async (request) => {
      const h = decodeHeader(request, ResumeCheckHalfMessageRequestHeader);
      if (isErrorResponse(h)) return h;
      let msg: MessageExt | undefined;
      try {
        msg = await b.store.lookMessageByOffset(decodeOffsetMsgId(h.msgId).offset);
      } catch (err) {
        b.log.error({ msgId: h.msgId, err: errorMessage(err) }, 'resumeCheckHalfMessage: bad message id');
      }
      if (!msg) {
        b.log.error({ msgId: h.msgId }, 'resumeCheckHalfMessage: no message at that offset');
        return failure(request, ResponseCode.SYSTEM_ERROR, LOOKUP_FAILED);
      }
      // Upstream takes any message; one without REAL_TOPIC could never be committed and would sit
      // in the half queue until transactionCheckMax, so it is refused here.
      const realTopic = msg.properties.get(MessageProperty.REAL_TOPIC);
      if (!realTopic) {
        b.log.error({ msgId: h.msgId, topic: msg.topic }, 'resumeCheckHalfMessage: not a half message');
        return failure(request, ResponseCode.SYSTEM_ERROR, LOOKUP_FAILED);
      }
      const props = new Map(msg.properties);
      props.set(MessageProperty.TRANSACTION_CHECK_TIMES, '0');
      props.set(MessageProperty.WAIT_STORE_MSG_OK, 'false');
      const r = await b.store.putMessage({
        topic: HALF,
        queueId: 0,
        body: msg.body,
        flag: msg.flag,
        properties: encodeProperties(props),
        // Stored as a plain message, as every half message is, so it enters the half queue.
        sysFlag: resetTransactionValue(msg.sysFlag, MessageSysFlag.TRANSACTION_NOT_TYPE),
        bornTimestamp: msg.bornTimestamp,
        bornHost: msg.bornHost,
        reconsumeTimes: msg.reconsumeTimes,
      });
      if (r.status !== PutMessageStatus.PUT_OK && r.status !== PutMessageStatus.FLUSH_DISK_TIMEOUT) {
        b.log.error({ msgId: h.msgId, status: r.status, remark: r.remark }, PUT_FAILED);
        return failure(request, ResponseCode.SYSTEM_ERROR, PUT_FAILED);
      }
      b.log.info({ msgId: h.msgId, realTopic }, `resumeCheckHalfMessage: put back to ${HALF}`);
      return success(request);
    },
  };
}
