/** Small helpers shared by every request handler (NameServer and broker). */
import { createResponse, type CommandInit, type RemotingCommand } from '../remoting/remoting-command.js';
import type { FieldMap, HeaderDescriptor, HeaderOf } from './header.js';
import { ResponseCode } from './response-code.js';

/**
 * Decodes the request's header, or returns the SYSTEM_ERROR response naming the bad field.
 * Callers check with `isResponse`.
 */
export function decodeHeader<D extends FieldMap>(
  request: RemotingCommand,
  descriptor: HeaderDescriptor<D>,
): HeaderOf<D> | RemotingCommand {
  const r = descriptor.decode(request.extFields);
  if (r.ok) return r.value;
  const response = createResponse(request, ResponseCode.SYSTEM_ERROR, { remark: r.error });
  headerErrors.add(response);
  return response;
}

const headerErrors = new WeakSet<object>();

/** Narrows decodeHeader's result: true when it is the error response. */
export function isErrorResponse(value: object): value is RemotingCommand {
  return headerErrors.has(value);
}

export function success(
  request: RemotingCommand,
  init: Omit<CommandInit, 'serializeType' | 'oneway'> = {},
): RemotingCommand {
  return createResponse(request, ResponseCode.SUCCESS, init);
}

export function failure(request: RemotingCommand, code: number, remark: string): RemotingCommand {
  return createResponse(request, code, { remark });
}
