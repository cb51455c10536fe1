/**
 * Transactional messages (half messages), as RocketMQ 4.x:
 * - A SEND with TRAN_MSG=true is stored as a half message in RMQ_SYS_TRANS_HALF_TOPIC queue 0,
 *   with its real topic and queue in REAL_TOPIC / REAL_QID: invisible to consumers.
 * - END_TRANSACTION commits (the message is stored again in its real topic) or rolls back; either
 *   way an op record (topic RMQ_SYS_TRANS_OP_HALF_TOPIC, tag "d", body = the half message's queue
 *   offset) marks the half message decided.
 * - The check service walks undecided half messages older than transactionTimeOut and asks a
 *   producer of the group with CHECK_TRANSACTION_STATE. Each check first stores a renewed copy
 *   (TRANSACTION_CHECK_TIMES + 1) and then an op record for the old copy, so the decision is
 *   always asked about the newest copy and a crash can only cause a repeated check, never a lost
 *   message. After transactionCheckMax checks the message moves to TRANS_CHECK_MAX_TIME_TOPIC.
 * Progress (half and op queue offsets) is kept as consumer offsets of group CID_RMQ_SYS_TRANS,
 * and the op queue is re-read from there at start, so a restart neither resurrects a decided
 * message nor forgets an undecided one.
 */
import type { Logger } from '../../common/logger.js';
import { MessageProperty, SystemGroup, SystemTopic } from '../../common/message/message-const.js';
import { appendProperty, encodeProperties } from '../../common/message/message-properties.js';
import { MessageSysFlag, resetTransactionValue } from '../../common/message/message-sysflag.js';
import { viewRecord, type MessageExt } from '../../common/message/message-record.js';
import { PermName } from '../../protocol/topic-config.js';
import { PutMessageStatus, type MessageToStore, type PutMessageResult } from '../../store/store-types.js';
import type { BrokerController } from '../broker-controller.js';

const HALF = SystemTopic.TRANS_HALF_TOPIC;
const OP = SystemTopic.TRANS_OP_HALF_TOPIC;
const CHECK_GROUP = SystemGroup.TRANS_CHECK_CONSUMER;
export const REMOVE_TAG = 'd';

function stored(r: PutMessageResult): boolean {
  return r.status === PutMessageStatus.PUT_OK || r.status === PutMessageStatus.FLUSH_DISK_TIMEOUT;
}

/** Rewrites a prepared message into its half-message form. */
export function toHalfMessage(msg: MessageToStore): MessageToStore {
  let props = appendProperty(msg.properties, MessageProperty.REAL_TOPIC, msg.topic);
  props = appendProperty(props, MessageProperty.REAL_QUEUE_ID, String(msg.queueId));
  return {
    ...msg,
    topic: HALF,
    queueId: 0,
    properties: props,
    sysFlag: resetTransactionValue(msg.sysFlag, MessageSysFlag.TRANSACTION_NOT_TYPE),
  };
}

export class TransactionalMessageService {
  /**
   * Half queue offsets decided (committed, rolled back, superseded, discarded) at or past
   * `halfProgress`, each with the op queue offset of its record.
   */
  private readonly decided = new Map<number, number>();
  private halfProgress = -1;
  private opProgress = -1;
  /** Op queue offset up to which op records are in `decided`. */
  private opScanned = -1;
  private readonly log: Logger;

  constructor(private readonly b: BrokerController) {
    this.log = b.log.child({ part: 'transaction' });
  }

  /** Loads progress; call once the store is up. */
  init(): void {
    const store = this.b.store;
    const half = this.b.offsets.query(CHECK_GROUP, HALF, 0);
    const op = this.b.offsets.query(CHECK_GROUP, OP, 0);
    this.halfProgress = Math.max(half, store.getMinOffsetInQueue(HALF, 0), 0);
    this.opProgress = Math.max(op, store.getMinOffsetInQueue(OP, 0), 0);
    this.opScanned = this.opProgress;
  }

  isDecided(halfOffset: number): boolean {
    return halfOffset < this.halfProgress || this.decided.has(halfOffset);
  }

  /** Stores the op record that marks a half message decided. */
  async markDecided(half: MessageExt): Promise<boolean> {
    // Known at once, so a repeated END_TRANSACTION racing the write is ignored.
    this.decided.set(half.queueOffset, this.opScanned);
    const r = await this.b.store.putMessage({
      topic: OP,
      queueId: 0,
      body: Buffer.from(String(half.queueOffset), 'utf8'),
      flag: 0,
      properties: encodeProperties(
        new Map([
          [MessageProperty.TAGS, REMOVE_TAG],
          [MessageProperty.WAIT_STORE_MSG_OK, 'false'],
        ]),
      ),
      sysFlag: 0,
      bornTimestamp: Date.now(),
      bornHost: half.storeHost,
    });
    if (!stored(r) || !r.appendResult) {
      this.log.error(
        { halfOffset: half.queueOffset, status: r.status },
        'cannot store transaction op record',
      );
      return false;
    }
    this.decided.set(half.queueOffset, r.appendResult.logicsOffset);
    return true;
  }

  /** Reads op records past `opScanned` into `decided`. */
  private async readOps(): Promise<void> {
    const store = this.b.store;
    const max = store.getMaxOffsetInQueue(OP, 0);
    while (this.opScanned < max) {
      const r = await store.getMessage(CHECK_GROUP, OP, 0, this.opScanned, 32);
      if (r.messages.length === 0) {
        this.opScanned = Math.max(this.opScanned + 1, r.nextBeginOffset);
        continue;
      }
      r.messages.forEach((raw, i) => {
        const halfOffset = Number(recordBody(raw));
        if (
          Number.isInteger(halfOffset) &&
          halfOffset >= this.halfProgress &&
          !this.decided.has(halfOffset)
        ) {
          this.decided.set(halfOffset, r.queueOffsets[i]!);
        }
      });
      this.opScanned = r.nextBeginOffset;
    }
  }

  /** One pass of the check service. */
  async check(): Promise<void> {
    const store = this.b.store;
    const cfg = this.b.config;
    await this.readOps();
    const max = store.getMaxOffsetInQueue(HALF, 0);
    let offset = Math.max(this.halfProgress, store.getMinOffsetInQueue(HALF, 0));
    const now = Date.now();
    while (offset < max) {
      if (this.decided.has(offset)) {
        offset++;
        continue;
      }
      const unit = await store.getUnit(HALF, 0, offset);
      const msg = unit ? await store.lookMessageByOffset(unit[0], unit[1]) : undefined;
      if (!msg) {
        offset++;
        continue;
      }
      const checks = Number(msg.properties.get(MessageProperty.TRANSACTION_CHECK_TIMES) ?? 0) || 0;
      if (checks >= cfg.transactionCheckMax) {
        await this.discard(msg, checks);
        offset++;
        continue;
      }
      const immunitySec = Number(msg.properties.get(MessageProperty.CHECK_IMMUNITY_TIME_IN_SECONDS));
      const immunity =
        Number.isFinite(immunitySec) && immunitySec > 0 ? immunitySec * 1000 : cfg.transactionTimeOut;
      if (now - msg.bornTimestamp < immunity) break;
      await this.renewAndCheck(msg, checks + 1);
      offset++;
    }
    this.advance(offset);
  }

  private async renewAndCheck(msg: MessageExt, checks: number): Promise<void> {
    const props = new Map(msg.properties);
    props.set(MessageProperty.TRANSACTION_CHECK_TIMES, String(checks));
    const copy = await this.b.store.putMessage({
      topic: HALF,
      queueId: 0,
      body: msg.body,
      flag: msg.flag,
      properties: encodeProperties(props),
      sysFlag: msg.sysFlag,
      bornTimestamp: msg.bornTimestamp,
      bornHost: msg.bornHost,
      reconsumeTimes: msg.reconsumeTimes,
    });
    if (!stored(copy) || !copy.appendResult) {
      this.log.warn({ status: copy.status }, 'cannot renew half message; will check again later');
      return;
    }
    await this.markDecided(msg);
    const renewed = await this.b.store.lookMessageByOffset(copy.appendResult.wroteOffset);
    if (!renewed) return;
    const group = renewed.properties.get(MessageProperty.PRODUCER_GROUP) ?? '';
    const sent = this.b.checkTransactionState(group, renewed);
    this.log.info(
      { group, msgId: renewed.properties.get(MessageProperty.UNIQ_CLIENT_MESSAGE_ID_KEYIDX), checks, sent },
      'transaction check-back',
    );
  }

  private async discard(msg: MessageExt, checks: number): Promise<void> {
    this.b.topics.createIfAbsent(SystemTopic.TRANS_CHECK_MAX_TIME_TOPIC, 1, PermName.READ | PermName.WRITE);
    const r = await this.b.store.putMessage({
      topic: SystemTopic.TRANS_CHECK_MAX_TIME_TOPIC,
      queueId: 0,
      body: msg.body,
      flag: msg.flag,
      properties: encodeProperties(msg.properties),
      sysFlag: msg.sysFlag,
      bornTimestamp: msg.bornTimestamp,
      bornHost: msg.bornHost,
      reconsumeTimes: msg.reconsumeTimes,
    });
    if (!stored(r)) return;
    await this.markDecided(msg);
    this.log.warn(
      {
        msgId: msg.properties.get(MessageProperty.UNIQ_CLIENT_MESSAGE_ID_KEYIDX),
        checks,
        realTopic: msg.properties.get(MessageProperty.REAL_TOPIC),
      },
      `half message checked ${checks} times without a decision: discarded to ${SystemTopic.TRANS_CHECK_MAX_TIME_TOPIC}`,
    );
  }

  /** Moves the half progress to `offset` and the op progress past records no longer needed. */
  private advance(offset: number): void {
    if (offset <= this.halfProgress) return;
    this.halfProgress = offset;
    for (const o of [...this.decided.keys()]) if (o < offset) this.decided.delete(o);
    // A restart re-reads the op queue from the oldest record still needed.
    let oldestNeeded = this.opScanned;
    for (const opOffset of this.decided.values()) oldestNeeded = Math.min(oldestNeeded, opOffset);
    this.opProgress = Math.max(this.opProgress, oldestNeeded);
    this.b.offsets.commit(CHECK_GROUP, HALF, 0, this.halfProgress);
    this.b.offsets.commit(CHECK_GROUP, OP, 0, this.opProgress);
  }
}

function recordBody(raw: Buffer): string {
  const v = viewRecord(raw, 0);
  return v ? raw.toString('utf8', v.bodyLengthPos + 4, v.bodyLengthPos + 4 + v.bodyLength) : '';
}
