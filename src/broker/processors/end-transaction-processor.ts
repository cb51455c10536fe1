/**
 * END_TRANSACTION (37): the producer's decision on a half message. COMMIT stores the message in
 * its real topic (TRAN_MSG, REAL_TOPIC, REAL_QID removed; sysflag COMMIT; preparedTransactionOffset
 * = the half message's offset) and then marks the half message decided; ROLLBACK only marks it.
 * A decision for a half message already decided (a check answer racing the producer's own END)
 * changes nothing. Java and Go send this oneway; the reply is for the others.
 */
import { MessageProperty, SystemTopic } from '../../common/message/message-const.js';
import { encodeProperties } from '../../common/message/message-properties.js';
import { MessageSysFlag, resetTransactionValue } from '../../common/message/message-sysflag.js';
import type { RequestHandler } from '../../remoting/dispatcher.js';
import { ResponseCode } from '../../protocol/response-code.js';
import { EndTransactionRequestHeader } from '../../protocol/broker-headers.js';
import { decodeHeader, failure, isErrorResponse, success } from '../../protocol/request-helpers.js';
import { PutMessageStatus } from '../../store/store-types.js';
import type { BrokerController } from '../broker-controller.js';

export function endTransactionHandler(b: BrokerController): RequestHandler {
  return async (request, ctx) => {
    const h = decodeHeader(request, EndTransactionRequestHeader);
    if (isErrorResponse(h)) return h;
    if (b.storeConfig.brokerRole === 'SLAVE') {
      return failure(
        request,
        ResponseCode.SLAVE_NOT_AVAILABLE,
        'Message store is slave mode, so end transaction is forbidden. ',
      );
    }
    const decision = h.commitOrRollback;
    if (
      decision !== MessageSysFlag.TRANSACTION_COMMIT_TYPE &&
      decision !== MessageSysFlag.TRANSACTION_ROLLBACK_TYPE
    ) {
      b.log.warn(
        { msgId: h.msgId, decision, fromCheck: h.fromTransactionCheck, peer: ctx.channel.remoteAddress },
        'transaction state unknown, waiting for a check',
      );
      return null;
    }
    const half = await b.store.lookMessageByOffset(h.commitLogOffset);
    if (!half || half.topic !== SystemTopic.TRANS_HALF_TOPIC) {
      return failure(request, ResponseCode.SYSTEM_ERROR, 'Find prepared transaction message failed');
    }
    if (half.properties.get(MessageProperty.PRODUCER_GROUP) !== h.producerGroup) {
      return failure(request, ResponseCode.SYSTEM_ERROR, 'The producer group wrong');
    }
    if (half.queueOffset !== h.tranStateTableOffset) {
      return failure(request, ResponseCode.SYSTEM_ERROR, 'The transaction state table offset wrong');
    }
    const tx = b.transactions;
    if (tx.isDecided(half.queueOffset)) {
      b.log.info(
        { msgId: h.msgId, halfOffset: half.queueOffset },
        'transaction already decided, ignoring a second decision',
      );
      return success(request);
    }
    if (decision === MessageSysFlag.TRANSACTION_ROLLBACK_TYPE) {
      await tx.markDecided(half);
      return success(request);
    }
    const realTopic = half.properties.get(MessageProperty.REAL_TOPIC);
    const realQueue = Number(half.properties.get(MessageProperty.REAL_QUEUE_ID));
    if (!realTopic || !Number.isInteger(realQueue)) {
      return failure(request, ResponseCode.SYSTEM_ERROR, 'half message without REAL_TOPIC / REAL_QID');
    }
    const props = new Map(half.properties);
    props.delete(MessageProperty.REAL_TOPIC);
    props.delete(MessageProperty.REAL_QUEUE_ID);
    props.delete(MessageProperty.TRANSACTION_PREPARED);
    props.set(MessageProperty.WAIT_STORE_MSG_OK, 'false');
    const r = await b.putMessage({
      topic: realTopic,
      queueId: realQueue,
      body: half.body,
      flag: half.flag,
      properties: encodeProperties(props),
      sysFlag: resetTransactionValue(half.sysFlag, MessageSysFlag.TRANSACTION_COMMIT_TYPE),
      bornTimestamp: half.bornTimestamp,
      bornHost: half.bornHost,
      reconsumeTimes: half.reconsumeTimes,
      preparedTransactionOffset: h.commitLogOffset,
    });
    if (r.status !== PutMessageStatus.PUT_OK && r.status !== PutMessageStatus.FLUSH_DISK_TIMEOUT) {
      return failure(
        request,
        ResponseCode.SYSTEM_ERROR,
        `commit failed: ${r.status}${r.remark ? ` (${r.remark})` : ''}`,
      );
    }
    await tx.markDecided(half);
    return success(request);
  };
}
