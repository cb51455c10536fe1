/**
 * Offset queries of clients and tools: GET_MAX_OFFSET (30), GET_MIN_OFFSET (31),
 * SEARCH_OFFSET_BY_TIMESTAMP (29), GET_EARLIEST_MSG_STORETIME (32), and the whole-table reads
 * a slave uses to copy its master: GET_ALL_CONSUMER_OFFSET (43), GET_ALL_DELAY_OFFSET (45).
 */
import type { RequestHandler } from '../../remoting/dispatcher.js';
import {
  GetEarliestMsgStoretimeResponseHeader,
  OffsetResponseHeader,
  SearchOffsetRequestHeader,
  TopicQueueRequestHeader,
} from '../../protocol/broker-headers.js';
import { decodeHeader, isErrorResponse, success } from '../../protocol/request-helpers.js';
import type { BrokerController } from '../broker-controller.js';

export function adminOffsetHandlers(
  b: BrokerController,
): Record<
  | 'getMaxOffset'
  | 'getMinOffset'
  | 'searchOffset'
  | 'earliestStoreTime'
  | 'allConsumerOffsets'
  | 'allDelayOffsets',
  RequestHandler
> {
  return {
    getMaxOffset: (request) => {
      const h = decodeHeader(request, TopicQueueRequestHeader);
      if (isErrorResponse(h)) return h;
      return success(request, {
        extFields: OffsetResponseHeader.encode({ offset: b.store.getMaxOffsetInQueue(h.topic, h.queueId) }),
      });
    },
    getMinOffset: (request) => {
      const h = decodeHeader(request, TopicQueueRequestHeader);
      if (isErrorResponse(h)) return h;
      return success(request, {
        extFields: OffsetResponseHeader.encode({ offset: b.store.getMinOffsetInQueue(h.topic, h.queueId) }),
      });
    },
    searchOffset: async (request) => {
      const h = decodeHeader(request, SearchOffsetRequestHeader);
      if (isErrorResponse(h)) return h;
      const offset = await b.store.getOffsetInQueueByTime(h.topic, h.queueId, h.timestamp);
      return success(request, { extFields: OffsetResponseHeader.encode({ offset }) });
    },
    earliestStoreTime: async (request) => {
      const h = decodeHeader(request, TopicQueueRequestHeader);
      if (isErrorResponse(h)) return h;
      const timestamp = await b.store.getEarliestMessageTime(h.topic, h.queueId);
      return success(request, { extFields: GetEarliestMsgStoretimeResponseHeader.encode({ timestamp }) });
    },
    allConsumerOffsets: (request) => success(request, { body: Buffer.from(b.offsets.encodeTable(), 'utf8') }),
    allDelayOffsets: (request) => success(request, { body: Buffer.from(b.delayOffsetsJson(), 'utf8') }),
  };
}
