/**
 * A message as consumers see it (upstream's MessageExt / MessageClientExt): the stored record's
 * fields, the body inflated when the producer compressed it, and `msgId` = the producer's
 * UNIQ_KEY when present (what Java consumers report), else the broker's offsetMsgId. The store's
 * `__CRC32#` record checksum property is not among the properties (other clients, reading the
 * records as stored, still see it).
 */
import { inflateSync } from 'node:zlib';
import type { MessageExt as StoredMessage } from '../../common/message/message-record.js';
import { MessageProperty } from '../../common/message/message-const.js';
import { MessageSysFlag } from '../../common/message/message-sysflag.js';
import { formatSocketAddr, type SocketAddr } from '../../common/socket-address.js';
import { getLogger } from '../../common/logger.js';
import { errorMessage } from '../../common/errors.js';
import { Message, adoptProperties } from './message.js';

const log = getLogger('client.message');

/** Compression type bits 8-10: 0 (legacy) and 3 mean zlib; 1 (LZ4) and 2 (ZSTD) are not readable here. */
const COMPRESSION_TYPE_SHIFT = 8;
const ZLIB_TYPES = new Set([0, 3]);

export class MessageExt extends Message {
  brokerName: string;
  queueId: number;
  storeSize: number;
  queueOffset: number;
  sysFlag: number;
  bornTimestamp: number;
  bornHost: SocketAddr;
  storeTimestamp: number;
  storeHost: SocketAddr;
  /** The broker's id: store host + commit-log offset. */
  offsetMsgId: string;
  commitLogOffset: number;
  bodyCRC: number;
  reconsumeTimes: number;
  preparedTransactionOffset: number;

  constructor(stored: StoredMessage, brokerName: string) {
    super(stored.topic, inflateIfCompressed(stored), adoptProperties(stored.properties));
    // The store's own whole-record checksum: storage detail, not the message's.
    this.properties.delete(MessageProperty.CRC32);
    this.flag = stored.flag;
    this.brokerName = brokerName;
    this.queueId = stored.queueId;
    this.storeSize = stored.storeSize;
    this.queueOffset = stored.queueOffset;
    this.sysFlag = stored.sysFlag;
    this.bornTimestamp = stored.bornTimestamp;
    this.bornHost = stored.bornHost;
    this.storeTimestamp = stored.storeTimestamp;
    this.storeHost = stored.storeHost;
    this.offsetMsgId = stored.msgId;
    this.commitLogOffset = stored.commitLogOffset;
    this.bodyCRC = stored.bodyCRC;
    this.reconsumeTimes = stored.reconsumeTimes;
    this.preparedTransactionOffset = stored.preparedTransactionOffset;
  }

  /** The producer's unique key (UNIQ_KEY) when it set one, else the offsetMsgId. */
  get msgId(): string {
    return this.properties.get(MessageProperty.UNIQ_CLIENT_MESSAGE_ID_KEYIDX) ?? this.offsetMsgId;
  }

  /**
   * Upstream's MessageExt.toString (4.x layout, as the quickstart prints it). Like upstream it
   * shows the broker's id as msgId; the UNIQ_KEY is among the properties.
   */
  override toString(): string {
    return (
      `MessageExt [queueId=${this.queueId}, storeSize=${this.storeSize}, queueOffset=${this.queueOffset}, ` +
      `sysFlag=${this.sysFlag}, bornTimestamp=${this.bornTimestamp}, bornHost=/${formatSocketAddr(this.bornHost)}, ` +
      `storeTimestamp=${this.storeTimestamp}, storeHost=/${formatSocketAddr(this.storeHost)}, msgId=${this.offsetMsgId}, ` +
      `commitLogOffset=${this.commitLogOffset}, bodyCRC=${this.bodyCRC}, reconsumeTimes=${this.reconsumeTimes}, ` +
      `preparedTransactionOffset=${this.preparedTransactionOffset}, toString()=${super.toString()}]`
    );
  }
}

function inflateIfCompressed(m: StoredMessage): Buffer {
  if ((m.sysFlag & MessageSysFlag.COMPRESSED_FLAG) === 0) return m.body;
  const type = (m.sysFlag & MessageSysFlag.COMPRESSION_TYPE_MASK) >> COMPRESSION_TYPE_SHIFT;
  if (!ZLIB_TYPES.has(type)) {
    log.warn(
      { topic: m.topic, msgId: m.msgId, type },
      'body compressed with an unsupported type; left as is',
    );
    return m.body;
  }
  try {
    return inflateSync(m.body);
  } catch (err) {
    // A body whose flag lies must not stop the queue: hand it over as stored.
    log.warn({ topic: m.topic, msgId: m.msgId, err: errorMessage(err) }, 'cannot inflate a compressed body');
    return m.body;
  }
}

/** `[a, b]` like java.util.List.toString. */
export function listToString(items: readonly { toString(): string }[]): string {
  return `[${items.map((m) => m.toString()).join(', ')}]`;
}
