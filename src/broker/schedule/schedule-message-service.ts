/**
 * Delayed delivery. A message with DELAY level L is stored in SCHEDULE_TOPIC_XXXX queue L-1
 * (its consume-queue tagsCode is the delivery time). One loop per level walks that queue in order
 * and, when a message is due, stores a copy in its REAL_TOPIC / REAL_QID with DELAY removed and
 * WAIT=false; a message not yet due holds back its level until its time (a level's messages are
 * due in store order). Progress per level is config/delayOffset.json, upstream's format
 * ({"offsetTable":{1:12,2:0}}), written every flushDelayOffsetInterval and at shutdown. After a
 * crash, messages past the last written progress are delivered again: never early, never lost,
 * possibly twice.
 */
import type { Logger } from '../../common/logger.js';
import { MessageProperty, SystemTopic } from '../../common/message/message-const.js';
import { getProperty, removeProperty, appendProperty } from '../../common/message/message-properties.js';
import { mapEntries, parseJson, writeJson } from '../../protocol/fastjson.js';
import { PutMessageStatus } from '../../store/store-types.js';
import type { MessageStore } from '../../store/message-store.js';
import { ConfigFileManager } from '../config-file-manager.js';

/** Poll period when a level has nothing due (upstream: 100 ms). */
const POLL_MS = 100;
/** Back-off after a failed delivery (upstream: 10 s). */
const ERROR_BACKOFF_MS = 10_000;

export class ScheduleMessageService extends ConfigFileManager {
  private readonly offsets = new Map<number, number>();
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private running = false;
  private readonly busy = new Set<number>();
  private flushTimer: NodeJS.Timeout | undefined;
  private dirty = false;

  constructor(
    path: string,
    /** levels[L] = delay of level L in ms; levels[0] unused. */
    private readonly levels: number[],
    private readonly store: () => MessageStore,
    private readonly flushIntervalMs: number,
    log: Logger,
  ) {
    super(path, log);
  }

  get maxDelayLevel(): number {
    return this.levels.length - 1;
  }

  protected encode(): string {
    return writeJson({ offsetTable: new Map(this.offsets) }, { pretty: true });
  }

  protected decode(text: string): void {
    const o = parseJson(text) as Record<string, unknown>;
    for (const [level, offset] of mapEntries(o?.offsetTable)) this.offsets.set(Number(level), Number(offset));
  }

  /** GET_ALL_DELAY_OFFSET body. */
  encodeTable(): string {
    return writeJson({ offsetTable: new Map(this.offsets) });
  }

  start(): void {
    this.running = true;
    for (let level = 1; level <= this.maxDelayLevel; level++) this.schedule(level, 1000);
    this.flushTimer = setInterval(() => {
      if (!this.dirty) return;
      this.dirty = false;
      void this.persist();
    }, this.flushIntervalMs);
    this.flushTimer.unref();
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    if (this.flushTimer) clearInterval(this.flushTimer);
    while (this.busy.size > 0) await new Promise((r) => setTimeout(r, 5));
    await this.flush();
  }

  private schedule(level: number, delayMs: number): void {
    if (!this.running) return;
    const t = setTimeout(() => {
      this.timers.delete(level);
      void this.deliver(level);
    }, delayMs);
    t.unref();
    this.timers.set(level, t);
  }

  private async deliver(level: number): Promise<void> {
    if (!this.running || this.busy.has(level)) return;
    this.busy.add(level);
    let next: number;
    try {
      next = await this.deliverDue(level);
    } catch (err) {
      this.log.error({ err, level }, 'delayed delivery failed');
      next = ERROR_BACKOFF_MS;
    } finally {
      this.busy.delete(level);
    }
    this.schedule(level, next);
  }

  /** Delivers every due message of a level; returns when to look again (ms). */
  private async deliverDue(level: number): Promise<number> {
    const store = this.store();
    const queueId = level - 1;
    const max = store.getMaxOffsetInQueue(SystemTopic.SCHEDULE_TOPIC, queueId);
    let offset = Math.max(
      this.offsets.get(level) ?? 0,
      store.getMinOffsetInQueue(SystemTopic.SCHEDULE_TOPIC, queueId),
    );
    while (this.running && offset < max) {
      const unit = await store.getUnit(SystemTopic.SCHEDULE_TOPIC, queueId, offset);
      if (!unit) {
        offset++;
        continue;
      }
      const [phyOffset, size, tagsCode] = unit;
      const now = Date.now();
      // A delivery time further away than the level's delay means the clock moved: deliver now.
      const due = tagsCode > now + this.levels[level]! ? now : tagsCode;
      if (due > now) {
        this.setOffset(level, offset);
        return Math.min(due - now, 1000);
      }
      const msg = await store.lookMessageByOffset(phyOffset, size);
      if (msg) {
        const realTopic = msg.properties.get(MessageProperty.REAL_TOPIC);
        const realQueue = Number(msg.properties.get(MessageProperty.REAL_QUEUE_ID));
        if (!realTopic || !Number.isInteger(realQueue) || realTopic === SystemTopic.TRANS_HALF_TOPIC) {
          this.log.error({ level, offset, realTopic }, 'delayed message without a valid real topic, skipped');
        } else {
          let props = rawProperties(msg.properties);
          props = removeProperty(props, MessageProperty.DELAY_TIME_LEVEL);
          props = removeProperty(props, MessageProperty.WAIT_STORE_MSG_OK);
          props = appendProperty(props, MessageProperty.WAIT_STORE_MSG_OK, 'false');
          const r = await store.putMessage({
            topic: realTopic,
            queueId: realQueue,
            body: msg.body,
            flag: msg.flag,
            properties: props,
            sysFlag: msg.sysFlag,
            bornTimestamp: msg.bornTimestamp,
            bornHost: msg.bornHost,
            reconsumeTimes: msg.reconsumeTimes,
          });
          if (r.status !== PutMessageStatus.PUT_OK && r.status !== PutMessageStatus.FLUSH_DISK_TIMEOUT) {
            this.log.warn(
              { level, offset, status: r.status, remark: r.remark },
              'delayed delivery refused, retrying later',
            );
            this.setOffset(level, offset);
            return ERROR_BACKOFF_MS;
          }
        }
      }
      offset++;
      this.setOffset(level, offset);
    }
    return POLL_MS;
  }

  private setOffset(level: number, offset: number): void {
    if (this.offsets.get(level) === offset) return;
    this.offsets.set(level, offset);
    this.dirty = true;
  }
}

/** Re-encodes decoded properties (the delivered copy keeps all but what we change). */
function rawProperties(props: Map<string, string>): string {
  let s = '';
  for (const [k, v] of props) s = appendProperty(s, k, v);
  return s;
}

/** The DELAY level of an encoded properties string, 0 when absent or invalid. */
export function delayLevelOf(properties: string): number {
  const v = Number(getProperty(properties, MessageProperty.DELAY_TIME_LEVEL));
  return Number.isInteger(v) && v > 0 ? v : 0;
}
