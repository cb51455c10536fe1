/**
 * QUERY_CONSUME_QUEUE (321): the raw units of one ConsumeQueue from an index (commitlog offset,
 * size, tags code), with the asking group's subscription, as upstream's AdminBrokerProcessor
 * answers it. Like upstream, at most the units up to the end of the CQ file holding `index` are
 * returned. The extension units (ConsumeQueueExt: filter bitmaps) are not kept by this store, so
 * extendDataJson, bitMap and msg stay unset and eval false, as upstream with the extension off.
 */
import { readInt64 } from '../../common/int64.js';
import type { RequestHandler } from '../../remoting/dispatcher.js';
import { ResponseCode } from '../../protocol/response-code.js';
import { QueryConsumeQueueRequestHeader } from '../../protocol/broker-headers.js';
import { decodeHeader, failure, isErrorResponse, success } from '../../protocol/request-helpers.js';
import {
  encodeQueryConsumeQueueResponseBody,
  type ConsumeQueueData,
  type QueryConsumeQueueResponseBody,
} from '../../protocol/admin-query-bodies.js';
import { CQ_STORE_UNIT_SIZE, consumeQueueFileSize } from '../../store/message-store-config.js';
import type { BrokerController } from '../broker-controller.js';

export function queryConsumeQueueHandler(b: BrokerController): RequestHandler {
  return async (request) => {
    const h = decodeHeader(request, QueryConsumeQueueRequestHeader);
    if (isErrorResponse(h)) return h;
    const store = b.store;
    if (!store.hasConsumeQueue(h.topic, h.queueId)) {
      return failure(request, ResponseCode.SYSTEM_ERROR, `${h.queueId}@${h.topic} is not exist!`);
    }
    const body: QueryConsumeQueueResponseBody = {
      maxQueueIndex: store.getMaxOffsetInQueue(h.topic, h.queueId),
      minQueueIndex: store.getMinOffsetInQueue(h.topic, h.queueId),
    };
    if (h.consumerGroup !== undefined) {
      const sub = b.consumers.get(h.consumerGroup)?.subscriptions.get(h.topic);
      body.subscriptionData = sub;
      // Upstream writes the group's SQL92 filter data here; a TAG subscription has none ("null").
      body.filterData = sub ? 'null' : `${h.consumerGroup}@${h.topic} is not online!`;
    }
    const units = await readUnits(b, h.topic, h.queueId, h.index, h.count);
    if (!units) {
      return success(request, { remark: `Index ${h.index} of ${h.queueId}@${h.topic} is not exist!` });
    }
    body.queueData = units;
    return success(request, { body: encodeQueryConsumeQueueResponseBody(body) });
  };
}

/** Up to `count` units from `index`, not past the end of its CQ file; undefined when none is there. */
async function readUnits(
  b: BrokerController,
  topic: string,
  queueId: number,
  index: number,
  count: number,
): Promise<ConsumeQueueData[] | undefined> {
  const unitsPerFile = consumeQueueFileSize(b.storeConfig) / CQ_STORE_UNIT_SIZE;
  const fileEnd = (Math.floor(index / unitsPerFile) + 1) * unitsPerFile;
  const end = index + Math.min(Math.max(0, count), fileEnd - index);
  let next = index;
  let first = true;
  const out: ConsumeQueueData[] = [];
  while (first || next < end) {
    const buf = await b.store.getConsumeQueueUnits(topic, queueId, next, Math.max(1, end - next));
    if (!buf || buf.length < CQ_STORE_UNIT_SIZE) return first ? undefined : out;
    first = false;
    for (let pos = 0; pos + CQ_STORE_UNIT_SIZE <= buf.length && next < end; pos += CQ_STORE_UNIT_SIZE) {
      out.push({
        physicOffset: readInt64(buf, pos),
        physicSize: buf.readInt32BE(pos + 8),
        tagsCode: readInt64(buf, pos + 12),
        eval: false,
      });
      next++;
    }
  }
  return out;
}
