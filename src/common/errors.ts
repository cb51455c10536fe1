/**
 * One error type for the whole project. `code` is a stable string callers can switch on;
 * `responseCode` is the RocketMQ wire response code when the error came from (or maps to) one.
 * Processors turn RmqErrors into responses; only the client turns response codes back into errors.
 */
export interface RmqErrorOptions {
  retriable?: boolean;
  responseCode?: number;
  cause?: unknown;
}

export class RmqError extends Error {
  readonly code: string;
  readonly retriable: boolean;
  readonly responseCode: number | undefined;

  constructor(code: string, message: string, options: RmqErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RmqError';
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.responseCode = options.responseCode;
  }
}

/** Stable error codes used across layers. Add here rather than inventing strings at call sites. */
export const ErrorCode = {
  CONFIG_INVALID: 'RMQ_CONFIG_INVALID',
  FRAME_INVALID: 'RMQ_FRAME_INVALID',
  REMOTING_TIMEOUT: 'RMQ_REMOTING_TIMEOUT',
  REMOTING_CONNECT: 'RMQ_REMOTING_CONNECT',
  REMOTING_CLOSED: 'RMQ_REMOTING_CLOSED',
  REMOTING_TOO_MANY_REQUESTS: 'RMQ_REMOTING_TOO_MANY_REQUESTS',
  HEADER_INVALID: 'RMQ_HEADER_INVALID',
  BROKER_RESPONSE: 'RMQ_BROKER_RESPONSE',
  NAMESRV_RESPONSE: 'RMQ_NAMESRV_RESPONSE',
  TOPIC_NOT_EXIST: 'RMQ_TOPIC_NOT_EXIST',
  ILLEGAL_ARGUMENT: 'RMQ_ILLEGAL_ARGUMENT',
  STORE_LOCKED: 'RMQ_STORE_LOCKED',
  STORE_CORRUPT: 'RMQ_STORE_CORRUPT',
  STORE_IO: 'RMQ_STORE_IO',
  SERVICE_STATE: 'RMQ_SERVICE_STATE',
  NO_ROUTE: 'RMQ_NO_ROUTE',
  CLIENT_STATE: 'RMQ_CLIENT_STATE',
  /** A send that failed after its retries; `cause` is the last attempt's error. */
  SEND_FAILED: 'RMQ_SEND_FAILED',
  /** A message the client refuses to send (empty or oversized body, bad batch). */
  MESSAGE_ILLEGAL: 'RMQ_MESSAGE_ILLEGAL',
  /** No address known for a broker name in the routes. */
  BROKER_NOT_FOUND: 'RMQ_BROKER_NOT_FOUND',
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Message of anything thrown, for logs and remarks. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
