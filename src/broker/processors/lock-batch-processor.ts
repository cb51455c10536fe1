/** LOCK_BATCH_MQ (41) and UNLOCK_BATCH_MQ (42) for orderly consumers. */
import { errorMessage } from '../../common/errors.js';
import type { RequestHandler } from '../../remoting/dispatcher.js';
import { ResponseCode } from '../../protocol/response-code.js';
import { decodeLockBatchRequest, jsonBody } from '../../protocol/admin-bodies.js';
import { failure, success } from '../../protocol/request-helpers.js';
import type { BrokerController } from '../broker-controller.js';

export function lockBatchHandlers(b: BrokerController): { lock: RequestHandler; unlock: RequestHandler } {
  const parse = (body: Buffer | undefined) => {
    try {
      return decodeLockBatchRequest(body);
    } catch (err) {
      return errorMessage(err);
    }
  };
  return {
    lock: (request) => {
      const req = parse(request.body);
      if (typeof req === 'string') return failure(request, ResponseCode.SYSTEM_ERROR, req);
      const locked = b.locks.tryLockBatch(req.consumerGroup, req.mqSet, req.clientId);
      return success(request, { body: jsonBody({ lockOKMQSet: locked }) });
    },
    unlock: (request) => {
      const req = parse(request.body);
      if (typeof req === 'string') return failure(request, ResponseCode.SYSTEM_ERROR, req);
      b.locks.unlockBatch(req.consumerGroup, req.mqSet, req.clientId);
      return success(request);
    },
  };
}
