import { encodeProperties } from '../../src/common/message/message-properties.js';
import { encodeMessageExt } from '../../src/common/message/message-record.js';

/** The fields a test picks for a stored record; the rest are fixed (commitLogOffset 4096, store host :10911). */
export interface StoredRecordSpec {
  topic: string;
  body: string;
  queueId: number;
  queueOffset: number;
  props?: Record<string, string>;
}

/** A record in the CommitLog layout, as a broker hands it to a client in a request body. */
export function storedRecord(s: StoredRecordSpec): Buffer {
  return encodeMessageExt(
    {
      topic: s.topic,
      flag: 0,
      body: Buffer.from(s.body),
      properties: new Map(Object.entries(s.props ?? {})),
      queueId: s.queueId,
      storeSize: 0,
      queueOffset: s.queueOffset,
      sysFlag: 0,
      bornTimestamp: 1,
      bornHost: { host: '127.0.0.1', port: 1 },
      storeTimestamp: 2,
      storeHost: { host: '127.0.0.1', port: 10911 },
      msgId: '',
      commitLogOffset: 4096,
      bodyCRC: 0,
      reconsumeTimes: 0,
      preparedTransactionOffset: 0,
    },
    encodeProperties,
  );
}
