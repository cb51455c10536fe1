/**
 * Consume offsets of a consumer group: the next offset to consume per queue. Kept in memory as the
 * listeners finish messages and written out periodically and at shutdown: to the broker for
 * CLUSTERING groups (RemoteBrokerOffsetStore, here), to a local file for BROADCASTING ones
 * (local-file-offset-store.ts), as upstream.
 */
import type { Logger } from '../../common/logger.js';
import { RmqError, errorMessage } from '../../common/errors.js';
import { MASTER_ID } from '../../protocol/route-data.js';
import type { MQClientInstance } from '../client-instance.js';
import { mqKey, type MessageQueue } from '../message/message-queue.js';

/** readOffsetFromStore: no offset stored for the queue. */
export const OFFSET_NOT_FOUND = -1;
/** readOffsetFromStore: the store could not be asked (try again later). */
export const OFFSET_UNKNOWN = -2;

export interface OffsetStore {
  load(): Promise<void>;
  /** Records a new offset; with increaseOnly a lower one is ignored. */
  updateOffset(mq: MessageQueue, offset: number, increaseOnly: boolean): void;
  /** The offset in memory, or OFFSET_NOT_FOUND. */
  readOffsetFromMemory(mq: MessageQueue): number;
  /** Asks the store (and remembers the answer): an offset, OFFSET_NOT_FOUND or OFFSET_UNKNOWN. */
  readOffsetFromStore(mq: MessageQueue): Promise<number>;
  /** Writes the offsets of `mqs` (periodic and at shutdown); forgets queues not in `mqs`. */
  persistAll(mqs: readonly MessageQueue[], oneway: boolean): Promise<void>;
  /** Writes one queue's offset (before the queue moves to another consumer). */
  persist(mq: MessageQueue): Promise<void>;
  removeOffset(mq: MessageQueue): void;
  /** Offsets of one topic's queues held in memory. */
  offsetsOf(topic: string): [MessageQueue, number][];
}

interface Slot {
  mq: MessageQueue;
  offset: number;
}

/** The in-memory table both stores share. */
export abstract class MemoryOffsetTable {
  private readonly table = new Map<string, Slot>();
  /**
   * The queue object updated last and its slot: a pull's messages finish one after another, so
   * most updates hit it and skip building the queue's key string and looking it up. Forgotten
   * whenever a slot is added or removed.
   */
  private lastMq: MessageQueue | undefined;
  private lastSlot: Slot | undefined;

  protected slotOf(mq: MessageQueue): Slot | undefined {
    if (mq === this.lastMq) return this.lastSlot;
    const slot = this.table.get(mqKey(mq));
    if (slot) {
      this.lastMq = mq;
      this.lastSlot = slot;
    }
    return slot;
  }

  updateOffset(mq: MessageQueue, offset: number, increaseOnly: boolean): void {
    const slot = this.slotOf(mq);
    if (!slot) this.setSlot(mqKey(mq), { mq, offset });
    else if (!increaseOnly || offset > slot.offset) slot.offset = offset;
  }

  readOffsetFromMemory(mq: MessageQueue): number {
    return this.slotOf(mq)?.offset ?? OFFSET_NOT_FOUND;
  }

  removeOffset(mq: MessageQueue): void {
    this.deleteSlot(mqKey(mq));
  }

  offsetsOf(topic: string): [MessageQueue, number][] {
    const out: [MessageQueue, number][] = [];
    for (const s of this.table.values()) if (s.mq.topic === topic) out.push([s.mq, s.offset]);
    return out;
  }

  protected slots(): IterableIterator<[string, Slot]> {
    return this.table.entries();
  }

  protected setSlot(key: string, slot: Slot): void {
    this.table.set(key, slot);
    this.lastMq = undefined;
  }

  protected deleteSlot(key: string): void {
    this.table.delete(key);
    this.lastMq = undefined;
  }
}

export class RemoteBrokerOffsetStore extends MemoryOffsetTable implements OffsetStore {
  constructor(
    private readonly instance: MQClientInstance,
    private readonly group: string,
    private readonly log: Logger,
  ) {
    super();
  }

  async load(): Promise<void> {}

  private async masterOf(mq: MessageQueue): Promise<string | undefined> {
    let found = this.instance.findBrokerAddressInSubscribe(mq.brokerName, MASTER_ID, true);
    if (!found) {
      await this.instance.updateTopicRouteInfoFromNameServer(mq.topic);
      found = this.instance.findBrokerAddressInSubscribe(mq.brokerName, MASTER_ID, true);
    }
    return found?.addr;
  }

  async readOffsetFromStore(mq: MessageQueue): Promise<number> {
    const addr = await this.masterOf(mq);
    if (!addr) return OFFSET_UNKNOWN;
    try {
      const offset = await this.instance.api.queryConsumerOffset(addr, this.group, mq);
      this.updateOffset(mq, offset, false);
      return offset;
    } catch (err) {
      // Any broker answer (QUERY_NOT_FOUND above all) means "no offset"; a transport error, "ask again".
      if (err instanceof RmqError && err.responseCode !== undefined) return OFFSET_NOT_FOUND;
      this.log.warn({ mq, err: errorMessage(err) }, 'query consumer offset failed');
      return OFFSET_UNKNOWN;
    }
  }

  async persistAll(mqs: readonly MessageQueue[], oneway: boolean): Promise<void> {
    const keep = new Set(mqs.map(mqKey));
    const calls: Promise<void>[] = [];
    for (const [key, slot] of [...this.slots()]) {
      if (!keep.has(key)) {
        this.deleteSlot(key);
        continue;
      }
      calls.push(this.write(slot.mq, slot.offset, oneway));
    }
    await Promise.all(calls);
  }

  async persist(mq: MessageQueue): Promise<void> {
    const slot = this.slotOf(mq);
    if (slot) await this.write(slot.mq, slot.offset, false);
  }

  private async write(mq: MessageQueue, offset: number, oneway: boolean): Promise<void> {
    try {
      const addr = await this.masterOf(mq);
      if (!addr) {
        this.log.warn({ mq }, 'cannot commit offset: no master address for the broker');
        return;
      }
      await this.instance.api.updateConsumerOffset(addr, this.group, mq, offset, oneway);
    } catch (err) {
      this.log.warn({ mq, offset, err: errorMessage(err) }, 'commit offset failed');
    }
  }
}
