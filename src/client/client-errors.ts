/**
 * The client is where response codes become errors: one RmqError per failed call, naming what was
 * asked, of whom, for which topic, and the response code by name, with the code itself in
 * `responseCode`. Transport failures (connect, timeout, closed) stay the remoting layer's errors.
 */
import { RmqError, ErrorCode } from '../common/errors.js';
import { ResponseCode, responseCodeName } from '../protocol/response-code.js';
import type { RemotingCommand } from '../remoting/remoting-command.js';

export interface ErrorContext {
  /** What was asked, e.g. "send", "pull", "query consumer offset". */
  what: string;
  addr?: string | undefined;
  brokerName?: string | undefined;
  topic?: string | undefined;
  group?: string | undefined;
}

/** Codes after which another attempt (another queue or broker) may succeed. */
const RETRIABLE = new Set<number>([
  ResponseCode.SYSTEM_ERROR,
  ResponseCode.SYSTEM_BUSY,
  ResponseCode.SERVICE_NOT_AVAILABLE,
  ResponseCode.TOPIC_NOT_EXIST,
  ResponseCode.NO_PERMISSION,
  ResponseCode.NO_BUYER_ID,
  ResponseCode.NOT_IN_CURRENT_UNIT,
  ResponseCode.FLOW_CONTROL,
]);

export function responseError(response: RemotingCommand, ctx: ErrorContext, fromNamesrv = false): RmqError {
  const where = [
    ctx.topic !== undefined ? `topic=${ctx.topic}` : undefined,
    ctx.group !== undefined ? `group=${ctx.group}` : undefined,
    ctx.brokerName !== undefined ? `broker=${ctx.brokerName}` : undefined,
    ctx.addr !== undefined ? `addr=${ctx.addr}` : undefined,
  ]
    .filter((s) => s !== undefined)
    .join(', ');
  const code =
    response.code === ResponseCode.TOPIC_NOT_EXIST
      ? ErrorCode.TOPIC_NOT_EXIST
      : fromNamesrv
        ? ErrorCode.NAMESRV_RESPONSE
        : ErrorCode.BROKER_RESPONSE;
  return new RmqError(
    code,
    `${ctx.what} failed: ${responseCodeName(response.code)}(${response.code}) ${response.remark ?? ''}`.trimEnd() +
      (where ? ` [${where}]` : ''),
    { responseCode: response.code, retriable: RETRIABLE.has(response.code) },
  );
}

/** True for errors of the transport (connect, timeout, closed, too many requests). */
export function isRemotingError(err: unknown): boolean {
  return (
    err instanceof RmqError &&
    (err.code === ErrorCode.REMOTING_CONNECT ||
      err.code === ErrorCode.REMOTING_TIMEOUT ||
      err.code === ErrorCode.REMOTING_CLOSED ||
      err.code === ErrorCode.REMOTING_TOO_MANY_REQUESTS)
  );
}
