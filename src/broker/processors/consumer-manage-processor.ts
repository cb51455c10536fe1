/**
 * GET_CONSUMER_LIST_BY_GROUP (38), UPDATE_CONSUMER_OFFSET (15) and QUERY_CONSUMER_OFFSET (14).
 * A brand-new queue answers offset 0 when its first message is still close to the head of the
 * CommitLog (upstream's rule), so a new consumer group starts from the beginning of young queues.
 */
import type { RequestHandler } from '../../remoting/dispatcher.js';
import { ResponseCode } from '../../protocol/response-code.js';
import {
  ConsumerGroupRequestHeader,
  OffsetResponseHeader,
  QueryConsumerOffsetRequestHeader,
  UpdateConsumerOffsetRequestHeader,
} from '../../protocol/broker-headers.js';
import { jsonBody } from '../../protocol/admin-bodies.js';
import { decodeHeader, failure, isErrorResponse, success } from '../../protocol/request-helpers.js';
import type { BrokerController } from '../broker-controller.js';

export function consumerManageHandlers(b: BrokerController): {
  getConsumerList: RequestHandler;
  updateOffset: RequestHandler;
  queryOffset: RequestHandler;
} {
  const getConsumerList: RequestHandler = (request, ctx) => {
    const h = decodeHeader(request, ConsumerGroupRequestHeader);
    if (isErrorResponse(h)) return h;
    const ids = b.consumers.get(h.consumerGroup)?.clientIds() ?? [];
    if (ids.length === 0) {
      b.log.warn(
        { group: h.consumerGroup, peer: ctx.channel.remoteAddress },
        'getConsumerListByGroup: no consumer online',
      );
      return failure(request, ResponseCode.SYSTEM_ERROR, `no consumer for this group, ${h.consumerGroup}`);
    }
    return success(request, { body: jsonBody({ consumerIdList: ids }) });
  };

  const updateOffset: RequestHandler = (request) => {
    const h = decodeHeader(request, UpdateConsumerOffsetRequestHeader);
    if (isErrorResponse(h)) return h;
    b.offsets.commit(h.consumerGroup, h.topic, h.queueId, h.commitOffset);
    return success(request);
  };

  const queryOffset: RequestHandler = async (request) => {
    const h = decodeHeader(request, QueryConsumerOffsetRequestHeader);
    if (isErrorResponse(h)) return h;
    const offset = b.offsets.query(h.consumerGroup, h.topic, h.queueId);
    if (offset >= 0) return success(request, { extFields: OffsetResponseHeader.encode({ offset }) });
    const minOffset = b.store.getMinOffsetInQueue(h.topic, h.queueId);
    if (minOffset <= 0 && !(await b.store.checkInDiskByConsumeOffset(h.topic, h.queueId, 0))) {
      return success(request, { extFields: OffsetResponseHeader.encode({ offset: 0 }) });
    }
    return failure(
      request,
      ResponseCode.QUERY_NOT_FOUND,
      'Not found, V3_0_6_SNAPSHOT maybe this group consumer boot first',
    );
  };

  return { getConsumerList, updateOffset, queryOffset };
}
