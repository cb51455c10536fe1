/**
 * Splits a SEND_BATCH_MESSAGE body (reference §4.5) into messages for the CommitLog. Each item:
 *
 *   off  size  field
 *     0    4   TOTALSIZE     item length, this field included
 *     4    4   MAGICCODE     0 (ignored)
 *     8    4   BODYCRC       0 (recomputed by the store)
 *    12    4   FLAG
 *    16  4+n   BODYLENGTH, BODY
 *     .  2+n   PROPERTIESLENGTH (int16), PROPERTIES
 *
 * The batch-level properties (header `i`) are appended to each item's properties, with a 0x02
 * between them when the item's own do not end with one (upstream MessageExtBatchEncoder).
 * Returns undefined for a malformed body; never throws on bad bytes.
 */
import type { MessageBatchToStore, MessageToStore } from './store-types.js';

export function decodeBatch(batch: MessageBatchToStore): MessageToStore[] | undefined {
  const pool: MessageToStore[] = [];
  const n = decodeBatchInto(batch, pool);
  return n > 0 ? pool.slice(0, n) : undefined;
}

/**
 * decodeBatch into `pool`: its first objects are reused (a put decodes, prepares and encodes a
 * batch without yielding, so the objects are free again by the next one) and new ones appended as
 * needed. Returns how many messages it holds, or -1 when the body is malformed or empty.
 */
export function decodeBatchInto(batch: MessageBatchToStore, pool: MessageToStore[]): number {
  const b = batch.body;
  const extra = batch.properties ?? '';
  let n = 0;
  let pos = 0;
  while (pos < b.length) {
    if (pos + 22 > b.length) return -1;
    const total = b.readInt32BE(pos);
    if (total < 22 || pos + total > b.length) return -1;
    const flag = b.readInt32BE(pos + 12);
    const bodyLen = b.readInt32BE(pos + 16);
    const bodyStart = pos + 20;
    if (bodyLen < 0 || bodyStart + bodyLen + 2 > pos + total) return -1;
    const propLen = b.readInt16BE(bodyStart + bodyLen);
    const propStart = bodyStart + bodyLen + 2;
    if (propLen < 0 || propStart + propLen !== pos + total) return -1;
    let props = b.toString('utf8', propStart, propStart + propLen);
    if (extra) props = props === '' || props.endsWith('\u0002') ? props + extra : props + '\u0002' + extra;
    const body = b.subarray(bodyStart, bodyStart + bodyLen);
    const m = pool[n];
    if (m) {
      m.topic = batch.topic;
      m.queueId = batch.queueId;
      m.body = body;
      m.flag = flag;
      m.properties = props;
      m.sysFlag = batch.sysFlag;
      m.bornTimestamp = batch.bornTimestamp;
      m.bornHost = batch.bornHost;
      m.reconsumeTimes = batch.reconsumeTimes ?? 0;
      m.preparedTransactionOffset = 0;
    } else {
      pool.push({
        topic: batch.topic,
        queueId: batch.queueId,
        body,
        flag,
        properties: props,
        sysFlag: batch.sysFlag,
        bornTimestamp: batch.bornTimestamp,
        bornHost: batch.bornHost,
        reconsumeTimes: batch.reconsumeTimes ?? 0,
        preparedTransactionOffset: 0,
      });
    }
    n++;
    pos += total;
  }
  return n > 0 ? n : -1;
}

/** Encodes messages into a batch body (the client side of §4.5; used by tests and tools). */
export function encodeBatch(items: { body: Buffer; flag?: number; properties?: string }[]): Buffer {
  const parts: Buffer[] = [];
  for (const it of items) {
    const props = Buffer.from(it.properties ?? '', 'utf8');
    const total = 4 + 4 + 4 + 4 + 4 + it.body.length + 2 + props.length;
    const buf = Buffer.alloc(total);
    buf.writeInt32BE(total, 0);
    buf.writeInt32BE(it.flag ?? 0, 12);
    buf.writeInt32BE(it.body.length, 16);
    it.body.copy(buf, 20);
    buf.writeInt16BE(props.length, 20 + it.body.length);
    props.copy(buf, 22 + it.body.length);
    parts.push(buf);
  }
  return Buffer.concat(parts);
}
