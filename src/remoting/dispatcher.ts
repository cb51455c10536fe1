/**
 * The request-code -> handler table of one endpoint (server or client). A handler answers with a
 * response command, or null for "no reply now" (a long-polling pull that answers later through
 * the channel). Unknown codes answer REQUEST_CODE_NOT_SUPPORTED naming the code; a thrown error
 * answers SYSTEM_ERROR with its message (or the RmqError's own response code). Oneway requests
 * never get a reply.
 */
import { RmqError, errorMessage } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import { ResponseCode } from '../protocol/response-code.js';
import { requestCodeName } from '../protocol/request-code.js';
import type { Channel } from './channel.js';
import { createResponse, isOneway, type RemotingCommand } from './remoting-command.js';

export interface RequestContext {
  channel: Channel;
  /**
   * Answers later, for handlers that return null and reply from a callback (hot paths that avoid
   * a promise per request): same rules as a returned response (none for oneway requests).
   */
  dispatcher: RequestDispatcher;
}

export type HandlerResult = RemotingCommand | null;
export type RequestHandler = (
  request: RemotingCommand,
  ctx: RequestContext,
) => HandlerResult | Promise<HandlerResult>;

interface Entry {
  handler?: RequestHandler;
  /** Why a known code is deliberately not served. */
  unsupported?: string;
}

export class RequestDispatcher {
  private readonly table = new Map<number, Entry>();

  constructor(private readonly log: Logger) {}

  register(code: number, handler: RequestHandler): this {
    this.table.set(code, { handler });
    return this;
  }

  /** Declares a code as known but not served; it answers REQUEST_CODE_NOT_SUPPORTED with `reason`. */
  registerUnsupported(code: number, reason: string): this {
    this.table.set(code, { unsupported: reason });
    return this;
  }

  /** How a code is served: a handler, an explicit refusal, or nothing. */
  describe(code: number): 'handled' | 'unsupported' | 'unknown' {
    const e = this.table.get(code);
    if (!e) return 'unknown';
    return e.handler ? 'handled' : 'unsupported';
  }

  dispatch(request: RemotingCommand, channel: Channel): void {
    const entry = this.table.get(request.code);
    if (!entry?.handler) {
      const remark = entry?.unsupported
        ? ` request type ${request.code} not supported: ${entry.unsupported}`
        : ` request type ${request.code} not supported`;
      this.reply(
        request,
        channel,
        createResponse(request, ResponseCode.REQUEST_CODE_NOT_SUPPORTED, { remark }),
      );
      return;
    }
    let result: HandlerResult | Promise<HandlerResult>;
    try {
      result = entry.handler(request, { channel, dispatcher: this });
    } catch (err) {
      this.replyError(request, channel, err);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (response) => {
          if (response) this.reply(request, channel, response);
        },
        (err: unknown) => this.replyError(request, channel, err),
      );
    } else if (result) {
      this.reply(request, channel, result);
    }
  }

  /** Answers `request` with the error's response code (SYSTEM_ERROR unless it carries one). */
  replyError(request: RemotingCommand, channel: Channel, err: unknown): void {
    const code =
      err instanceof RmqError && err.responseCode !== undefined
        ? err.responseCode
        : ResponseCode.SYSTEM_ERROR;
    if (code === ResponseCode.SYSTEM_ERROR) {
      this.log.warn(
        { err, code: requestCodeName(request.code), peer: channel.remoteAddress },
        'request failed',
      );
    }
    this.reply(request, channel, createResponse(request, code, { remark: errorMessage(err) }));
  }

  /** Writes `response` unless `request` was oneway; an unencodable one becomes SYSTEM_ERROR. */
  reply(request: RemotingCommand, channel: Channel, response: RemotingCommand): void {
    if (isOneway(request)) return;
    try {
      channel.write(response);
    } catch (err) {
      // An unencodable response (e.g. a body past the frame limit) must not take the peer down.
      this.log.error({ err, code: requestCodeName(request.code) }, 'cannot encode response');
      channel.write(createResponse(request, ResponseCode.SYSTEM_ERROR, { remark: errorMessage(err) }));
    }
  }
}
