/**
 * RemotingCommand: the unit of every request and response on the wire.
 * `extFields` values are always strings here (the decoder stringifies numbers and booleans that
 * ali-ons sends; the encoder only ever sends strings, which the Go client requires).
 */
export const SerializeType = { JSON: 0, ROCKETMQ: 1 } as const;
export type SerializeTypeValue = (typeof SerializeType)[keyof typeof SerializeType];

/** LanguageCode names and their byte in the ROCKETMQ binary header. */
export const LanguageCode = {
  JAVA: 0,
  CPP: 1,
  DOTNET: 2,
  PYTHON: 3,
  DELPHI: 4,
  ERLANG: 5,
  RUBY: 6,
  OTHER: 7,
  HTTP: 8,
  GO: 9,
  PHP: 10,
  OMS: 11,
  RUST: 12,
} as const;
export type LanguageName = keyof typeof LanguageCode;

const languageByByte = new Map<number, LanguageName>(
  Object.entries(LanguageCode).map(([k, v]) => [v, k as LanguageName]),
);
export function languageFromByte(b: number): string {
  return languageByByte.get(b) ?? 'OTHER';
}
export function languageToByte(name: string): number {
  return (LanguageCode as Record<string, number>)[name] ?? LanguageCode.OTHER;
}

export const RPC_TYPE_RESPONSE = 1 << 0;
export const RPC_ONEWAY = 1 << 1;

/**
 * MQVersion ordinal we announce: V4_9_8 (409), so Java peers treat us as a current 4.x node
 * (e.g. expect standard route JSON).
 */
export const CURRENT_VERSION = 409;

export type ExtFields = Record<string, string>;

export interface RemotingCommand {
  code: number;
  language: string;
  version: number;
  opaque: number;
  flag: number;
  remark?: string | undefined;
  extFields?: ExtFields | undefined;
  body?: Buffer | undefined;
  /** How the header travelled (responses mirror the request's type). */
  serializeType: SerializeTypeValue;
}

let opaqueCounter = 0;
/** Process-wide request id; wraps before int32 overflow. */
export function nextOpaque(): number {
  opaqueCounter = opaqueCounter >= 0x7fffffff ? 1 : opaqueCounter + 1;
  return opaqueCounter;
}

export function isResponse(cmd: RemotingCommand): boolean {
  return (cmd.flag & RPC_TYPE_RESPONSE) !== 0;
}

export function isOneway(cmd: RemotingCommand): boolean {
  return (cmd.flag & RPC_ONEWAY) !== 0;
}

export interface CommandInit {
  extFields?: ExtFields | undefined;
  body?: Buffer | undefined;
  remark?: string | undefined;
  serializeType?: SerializeTypeValue;
  oneway?: boolean;
}

export function createRequest(code: number, init: CommandInit = {}): RemotingCommand {
  return {
    code,
    language: 'JAVA',
    version: CURRENT_VERSION,
    opaque: nextOpaque(),
    flag: init.oneway ? RPC_ONEWAY : 0,
    remark: init.remark,
    extFields: init.extFields,
    body: init.body,
    serializeType: init.serializeType ?? SerializeType.JSON,
  };
}

/**
 * A response to `request`: same opaque and serialize type, response bit set, language JAVA
 * (older Java peers cannot parse language names they do not know).
 */
export function createResponse(
  request: RemotingCommand,
  code: number,
  init: Omit<CommandInit, 'serializeType' | 'oneway'> = {},
): RemotingCommand {
  return {
    code,
    language: 'JAVA',
    version: CURRENT_VERSION,
    opaque: request.opaque,
    flag: RPC_TYPE_RESPONSE,
    remark: init.remark,
    extFields: init.extFields,
    body: init.body,
    serializeType: request.serializeType,
  };
}
