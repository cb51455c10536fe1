/**
 * The store's put path (upstream DefaultMessageStore.putMessage / putMessages and CommitLog's
 * handleDiskFlush): prepare, append (synchronously, commitlog.ts), then answer once the records
 * are as durable as the flush mode asks. The store (message-store.ts) checks first whether it
 * takes writes at all.
 *
 * Per message nothing is allocated beyond what the answer carries: a single put reuses one
 * PreparedMessage, a batch reuses a pool of decoded messages and PreparedMessages (a batch is
 * decoded, prepared and appended without yielding, so the pool is free again by the next one).
 */
import { getProperty } from '../common/message/message-properties.js';
import { MessageProperty } from '../common/message/message-const.js';
import type { CommitLog } from './commitlog/commitlog.js';
import { emptyPrepared, type PreparedMessage, type RecordEncoder } from './commitlog/record-encoder.js';
import type { FlushService } from './commitlog/flush-service.js';
import { decodeBatchInto } from './batch-decoder.js';
import { AppendResult } from './append-result.js';
import type { StoreStats } from './store-stats.js';
import type { MessageStoreOptions } from './message-store.js';
import {
  PutMessageStatus,
  type MessageBatchToStore,
  type MessageToStore,
  type PutMessageResult,
} from './store-types.js';

export class StorePut {
  /** Reused by every single put: prepare fills it, the append consumes it synchronously. */
  private readonly scratch = emptyPrepared();
  private readonly decoded: MessageToStore[] = [];
  private readonly prepared: PreparedMessage[] = [];

  constructor(
    private readonly commitLog: CommitLog,
    private readonly encoder: RecordEncoder,
    private readonly flusher: FlushService,
    private readonly stats: StoreStats,
    /** SYNC_FLUSH: puts asking WAIT wait for an fdatasync. */
    private readonly sync: boolean,
    /** SYNC_MASTER with a replication service: puts also wait for the slave. */
    private readonly replicaWait: MessageStoreOptions['replicaWait'],
  ) {}

  putMessage(msg: MessageToStore): Promise<PutMessageResult> {
    const p = this.encoder.prepare(msg, this.scratch);
    if ('status' in p) return Promise.resolve(this.stats.putFailed(p));
    const storeTs = Date.now();
    const phy = this.commitLog.appendOne(p, storeTs);
    if (typeof phy !== 'number') return Promise.resolve(this.stats.putFailed(phy));
    const end = this.commitLog.stagedOffset;
    const queueOffset = this.commitLog.lastQueueOffset;
    this.stats.putOk(1, p.size);
    const wait = this.waitsForFlush(msg.properties);
    // Common paths: the result stays numbers until the put is answered (see waiter-queue.ts).
    if (!this.replicaWait && end > this.commitLog.writtenOffset) {
      if (wait)
        return this.flusher.waitPutOne(end, this.encoder.storeHost, phy, p.size, queueOffset, storeTs);
      this.next.end = end;
      this.next.phy = phy;
      this.next.size = p.size;
      this.next.queueOffset = queueOffset;
      this.next.storeTs = storeTs;
      return new Promise<PutMessageResult>(this.enqueueWrittenOne);
    }
    const result = new AppendResult(this.encoder.storeHost, phy, p.size, queueOffset, storeTs, 1);
    return this.awaitDurable(result, end, wait);
  }

  putMessages(batch: MessageBatchToStore): Promise<PutMessageResult> {
    const msgs = this.decoded;
    const n = decodeBatchInto(batch, msgs);
    if (n < 0)
      return Promise.resolve(
        this.stats.putFailed({ status: PutMessageStatus.MESSAGE_ILLEGAL, remark: 'malformed batch body' }),
      );
    const list = this.prepared;
    for (let i = 0; i < n; i++) {
      const p = this.encoder.prepare(msgs[i]!, (list[i] ??= emptyPrepared()));
      if ('status' in p) return Promise.resolve(this.stats.putFailed(p));
    }
    list.length = n;
    const storeTs = Date.now();
    const out = this.commitLog.append(list, storeTs);
    if ('status' in out) return Promise.resolve(this.stats.putFailed(out));
    const result = new AppendResult(
      this.encoder.storeHost,
      out.firstPhyOffset,
      out.endOffset - out.firstPhyOffset,
      out.firstQueueOffset,
      storeTs,
      n,
      out.phyOffsets,
    );
    this.stats.putOk(n, result.wroteBytes);
    return this.awaitDurable(result, out.endOffset, this.waitsForFlush(msgs[0]!.properties));
  }

  /** SYNC_FLUSH: a put waits for an fdatasync unless it says WAIT=false. */
  private waitsForFlush(props: string): boolean {
    return this.sync && getProperty(props, MessageProperty.WAIT_STORE_MSG_OK) !== 'false';
  }

  /**
   * The put's answer once its bytes below `end` are as durable as the flush mode asks: written
   * (ASYNC_FLUSH, or WAIT=false), or covered by an fdatasync (`wait`); SYNC_MASTER then also
   * waits for the slave. One promise per put on the common paths.
   */
  private awaitDurable(result: AppendResult, end: number, wait: boolean): Promise<PutMessageResult> {
    const replicaWait = this.replicaWait;
    if (!replicaWait) {
      if (wait) return this.flusher.waitPut(end, result) as Promise<PutMessageResult>;
      if (end <= this.commitLog.writtenOffset)
        return Promise.resolve({ status: PutMessageStatus.PUT_OK, appendResult: result });
      return this.waitWritten(end, result);
    }
    const durable: Promise<PutMessageResult> = wait
      ? (this.flusher.waitPut(end, result) as Promise<PutMessageResult>)
      : this.waitWritten(end, result);
    return durable.then((r) =>
      r.status !== PutMessageStatus.PUT_OK
        ? r
        : replicaWait(end).then((s): PutMessageResult =>
            s === 'OK'
              ? { status: PutMessageStatus.PUT_OK, appendResult: result }
              : { status: s, appendResult: result },
          ),
    );
  }

  // One promise per put and no closure: the executors are shared and take their arguments from here.
  private readonly next = {
    end: 0,
    result: undefined as AppendResult | undefined,
    phy: 0,
    size: 0,
    queueOffset: 0,
    storeTs: 0,
  };
  private readonly enqueueWritten = (resolve: (r: PutMessageResult) => void): void =>
    this.commitLog.waiters.push(this.next.end, resolve, this.next.result);
  private readonly enqueueWrittenOne = (resolve: (r: PutMessageResult) => void): void => {
    const n = this.next;
    this.commitLog.waiters.pushOne(
      n.end,
      resolve,
      this.encoder.storeHost,
      n.phy,
      n.size,
      n.queueOffset,
      n.storeTs,
    );
  };

  /** Resolves with PUT_OK once every byte below `end` is in the kernel (or with the write's failure). */
  private waitWritten(end: number, result: AppendResult): Promise<PutMessageResult> {
    this.next.end = end;
    this.next.result = result;
    return new Promise<PutMessageResult>(this.enqueueWritten);
  }
}
