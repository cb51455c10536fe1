/**
 * The store's request and result shapes, with upstream's status names (PutMessageStatus,
 * GetMessageStatus) so the broker can map them to response codes one to one.
 */
import type { SocketAddr } from '../common/socket-address.js';

export const PutMessageStatus = {
  PUT_OK: 'PUT_OK',
  FLUSH_DISK_TIMEOUT: 'FLUSH_DISK_TIMEOUT',
  FLUSH_SLAVE_TIMEOUT: 'FLUSH_SLAVE_TIMEOUT',
  SLAVE_NOT_AVAILABLE: 'SLAVE_NOT_AVAILABLE',
  SERVICE_NOT_AVAILABLE: 'SERVICE_NOT_AVAILABLE',
  CREATE_MAPEDFILE_FAILED: 'CREATE_MAPEDFILE_FAILED',
  MESSAGE_ILLEGAL: 'MESSAGE_ILLEGAL',
  PROPERTIES_SIZE_EXCEEDED: 'PROPERTIES_SIZE_EXCEEDED',
  OS_PAGECACHE_BUSY: 'OS_PAGECACHE_BUSY',
  UNKNOWN_ERROR: 'UNKNOWN_ERROR',
} as const;
export type PutMessageStatus = (typeof PutMessageStatus)[keyof typeof PutMessageStatus];

/** What was appended (upstream AppendMessageResult). For a batch, offsets are of the first message. */
export interface AppendMessageResult {
  wroteOffset: number;
  wroteBytes: number;
  /** offsetMsgId(s); comma-joined for a batch as upstream does. */
  msgId: string;
  storeTimestamp: number;
  /** Queue offset of the (first) message. */
  logicsOffset: number;
  msgNum: number;
}

export interface PutMessageResult {
  status: PutMessageStatus;
  /** Present when the bytes were appended (also on FLUSH_DISK_TIMEOUT: they are stored, not yet durable). */
  appendResult?: AppendMessageResult;
  /** Why a put was refused, for the broker's remark (e.g. "disk full: 92% used"). */
  remark?: string;
}

/** A message as the broker hands it to the store (upstream MessageExtBrokerInner). */
export interface MessageToStore {
  topic: string;
  queueId: number;
  body: Buffer;
  flag: number;
  /** Encoded properties string (name 0x01 value 0x02 ...). */
  properties: string;
  sysFlag: number;
  bornTimestamp: number;
  /** Encoded 8-byte (IPv4) or 20-byte (IPv6) host, or an address to encode. */
  bornHost: Buffer | SocketAddr;
  reconsumeTimes?: number;
  preparedTransactionOffset?: number;
}

/** A SEND_BATCH_MESSAGE body (reference §4.5) with the batch-level fields. */
export interface MessageBatchToStore {
  topic: string;
  queueId: number;
  /** Concatenated batch items: TOTALSIZE, MAGIC, BODYCRC, FLAG, BODY(4+n), PROPERTIES(2+n). */
  body: Buffer;
  sysFlag: number;
  bornTimestamp: number;
  bornHost: Buffer | SocketAddr;
  /** Batch-level properties appended to every message (header `i`, e.g. CLUSTER). */
  properties?: string;
  reconsumeTimes?: number;
}

export const GetMessageStatus = {
  FOUND: 'FOUND',
  NO_MATCHED_MESSAGE: 'NO_MATCHED_MESSAGE',
  MESSAGE_WAS_REMOVING: 'MESSAGE_WAS_REMOVING',
  OFFSET_FOUND_NULL: 'OFFSET_FOUND_NULL',
  OFFSET_OVERFLOW_BADLY: 'OFFSET_OVERFLOW_BADLY',
  OFFSET_OVERFLOW_ONE: 'OFFSET_OVERFLOW_ONE',
  OFFSET_TOO_SMALL: 'OFFSET_TOO_SMALL',
  NO_MATCHED_LOGIC_QUEUE: 'NO_MATCHED_LOGIC_QUEUE',
  NO_MESSAGE_IN_QUEUE: 'NO_MESSAGE_IN_QUEUE',
} as const;
export type GetMessageStatus = (typeof GetMessageStatus)[keyof typeof GetMessageStatus];

/** Implemented by the broker (tag / SQL filters). */
export interface MessageFilter {
  isMatchedByConsumeQueue(tagsCode: number): boolean;
  /** Called with the raw record when present; return false to skip it. */
  isMatchedByCommitLog?(record: Buffer): boolean;
}

export interface GetMessageResult {
  status: GetMessageStatus;
  nextBeginOffset: number;
  minOffset: number;
  maxOffset: number;
  /** Raw records, each a view into a read buffer (no per-message copy); concatenate for a PULL body. */
  messages: Buffer[];
  /** Queue offsets of `messages`, same order. */
  queueOffsets: number[];
  bufferTotalSize: number;
  /** Upstream's hint that the consumer is far enough behind to be served by a slave. */
  suggestPullingFromSlave: boolean;
}

export interface QueryMessageResult {
  /** Raw records, newest index entries first, as upstream returns them. */
  messages: Buffer[];
  phyOffsets: number[];
  indexLastUpdateTimestamp: number;
  indexLastUpdatePhyoffset: number;
}

/** Told when units land in a ConsumeQueue (the broker wakes long-polling pulls with it). */
export type DispatchListener = (
  topic: string,
  queueId: number,
  queueOffset: number,
  tagsCode: number,
  storeTimestamp: number,
) => void;
