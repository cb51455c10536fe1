/**
 * QUERY_MESSAGE (12): messages by key (a KEYS word, or with `_UNIQUE_KEY_QUERY` a UNIQ_KEY)
 * within a store-time range, through the index; VIEW_MESSAGE_BY_ID (33): one message by its
 * commit-log offset (decoded by the client from an offsetMsgId). Bodies are raw stored records.
 */
import type { RequestHandler } from '../../remoting/dispatcher.js';
import { ResponseCode } from '../../protocol/response-code.js';
import {
  QueryMessageRequestHeader,
  QueryMessageResponseHeader,
  UNIQUE_MSG_QUERY_FLAG,
  ViewMessageRequestHeader,
} from '../../protocol/broker-headers.js';
import { decodeHeader, failure, isErrorResponse, success } from '../../protocol/request-helpers.js';
import type { BrokerController } from '../broker-controller.js';

export function queryMessageHandlers(b: BrokerController): {
  queryMessage: RequestHandler;
  viewMessageById: RequestHandler;
} {
  const queryMessage: RequestHandler = async (request) => {
    const h = decodeHeader(request, QueryMessageRequestHeader);
    if (isErrorResponse(h)) return h;
    const maxNum =
      request.extFields?.[UNIQUE_MSG_QUERY_FLAG] === 'true' ? b.storeConfig.defaultQueryMaxNum : h.maxNum;
    const r = await b.store.queryMessage(h.topic, h.key, maxNum, h.beginTimestamp, h.endTimestamp);
    const extFields = QueryMessageResponseHeader.encode({
      indexLastUpdateTimestamp: r.indexLastUpdateTimestamp,
      indexLastUpdatePhyoffset: r.indexLastUpdatePhyoffset,
    });
    if (r.messages.length === 0) {
      return failure(
        request,
        ResponseCode.QUERY_NOT_FOUND,
        'can not find message, maybe time range not correct',
      );
    }
    return success(request, { extFields, body: Buffer.concat(r.messages) });
  };

  const viewMessageById: RequestHandler = async (request) => {
    const h = decodeHeader(request, ViewMessageRequestHeader);
    if (isErrorResponse(h)) return h;
    const raw = await b.store.lookMessageByOffsetRaw(h.offset);
    if (!raw)
      return failure(request, ResponseCode.SYSTEM_ERROR, `can not find message by the offset, ${h.offset}`);
    return success(request, { body: raw });
  };

  return { queryMessage, viewMessageById };
}
