/**
 * TransactionProducer (upstream's TransactionMQProducer): messages that appear to consumers only
 * if a local transaction commits.
 *
 * sendMessageInTransaction(msg, executeLocalTransaction, arg):
 * 1. sends `msg` as a half message (properties TRAN_MSG=true and PGROUP=<group>, sysflag
 *    PREPARED): the broker keeps it in RMQ_SYS_TRANS_HALF_TOPIC, invisible to consumers;
 * 2. runs executeLocalTransaction(msg, arg) -> COMMIT_MESSAGE | ROLLBACK_MESSAGE | UNKNOW (a throw
 *    counts as UNKNOW; a half message the broker stored only partly, FLUSH_*_TIMEOUT or
 *    SLAVE_NOT_AVAILABLE, is rolled back without running it);
 * 3. tells the broker with a oneway END_TRANSACTION (commit: the message is stored in its real
 *    topic; rollback: dropped; unknown: left for the check-back).
 * For half messages left undecided (UNKNOW, a lost END_TRANSACTION, a producer that died) the
 * broker later sends CHECK_TRANSACTION_STATE to a producer of the group: checkLocalTransaction(msg)
 * answers it, again with a oneway END_TRANSACTION (fromTransactionCheck=true). Checks run
 * checkThreadPoolMaxSize at a time; beyond checkRequestHoldMax waiting ones are dropped (the broker
 * asks again at its next check round).
 *
 * As upstream, a delay level on a transactional message is ignored (the DELAY property is removed
 * before the half message is sent), and the local transaction's error is logged and sent to the
 * broker as the END_TRANSACTION remark rather than thrown.
 */
import { RmqError, ErrorCode, errorMessage } from '../../common/errors.js';
import { MessageProperty } from '../../common/message/message-const.js';
import { decodeOffsetMsgId } from '../../common/message/message-id.js';
import { MessageSysFlag } from '../../common/message/message-sysflag.js';
import type { CheckTransactionStateRequest, ProducerInner } from '../client-instance.js';
import type { Message } from '../message/message.js';
import type { MessageExt } from '../message/message-ext.js';
import { Producer } from './producer.js';
import type { ProducerOptions } from './producer-options.js';
import { SendResult, SendStatus } from './send-result.js';

/** A local transaction's outcome (upstream's LocalTransactionState, spelling included). */
export const LocalTransactionState = {
  COMMIT_MESSAGE: 'COMMIT_MESSAGE',
  ROLLBACK_MESSAGE: 'ROLLBACK_MESSAGE',
  UNKNOW: 'UNKNOW',
} as const;
export type LocalTransactionState = (typeof LocalTransactionState)[keyof typeof LocalTransactionState];

/** Runs the local transaction once the half message is stored. */
export type LocalTransactionExecutor<A = unknown> = (
  msg: Message,
  arg: A,
) => LocalTransactionState | Promise<LocalTransactionState>;

/** Tells the broker, when it asks, what became of the local transaction of a half message. */
export type LocalTransactionChecker = (
  msg: MessageExt,
) => LocalTransactionState | Promise<LocalTransactionState>;

export interface TransactionProducerOptions extends ProducerOptions {
  /** Answers the broker's CHECK_TRANSACTION_STATE for half messages of this group. */
  checkLocalTransaction: LocalTransactionChecker;
  /** Checks answered at once (1). */
  checkThreadPoolMaxSize?: number;
  /** Checks waiting beyond this many are dropped (2000). */
  checkRequestHoldMax?: number;
}

export class TransactionSendResult extends SendResult {
  constructor(
    r: SendResult,
    readonly localTransactionState: LocalTransactionState,
  ) {
    super(
      r.sendStatus,
      r.msgId,
      r.offsetMsgId,
      r.messageQueue,
      r.queueOffset,
      r.transactionId,
      r.regionId,
      r.traceOn,
    );
  }
}

const STATES = new Set<string>(Object.values(LocalTransactionState));

function endTransactionType(state: LocalTransactionState): number {
  switch (state) {
    case LocalTransactionState.COMMIT_MESSAGE:
      return MessageSysFlag.TRANSACTION_COMMIT_TYPE;
    case LocalTransactionState.ROLLBACK_MESSAGE:
      return MessageSysFlag.TRANSACTION_ROLLBACK_TYPE;
    default:
      return MessageSysFlag.TRANSACTION_NOT_TYPE;
  }
}

interface CheckTask {
  addr: string;
  msg: MessageExt;
  header: CheckTransactionStateRequest;
}

function count(name: string, v: number | undefined, d: number): number {
  if (v === undefined) return d;
  if (!Number.isInteger(v) || v < 1) {
    throw new RmqError(ErrorCode.ILLEGAL_ARGUMENT, `${name} must be a positive integer, got ${v}`);
  }
  return v;
}

export class TransactionProducer extends Producer {
  private readonly checker: LocalTransactionChecker;
  private readonly checkConcurrency: number;
  private readonly checkHoldMax: number;
  private readonly checks: CheckTask[] = [];
  private checksRunning = 0;

  constructor(options: TransactionProducerOptions) {
    super(options);
    if (typeof options.checkLocalTransaction !== 'function') {
      throw new RmqError(ErrorCode.ILLEGAL_ARGUMENT, 'checkLocalTransaction is required');
    }
    this.checker = options.checkLocalTransaction;
    this.checkConcurrency = count('checkThreadPoolMaxSize', options.checkThreadPoolMaxSize, 1);
    this.checkHoldMax = count('checkRequestHoldMax', options.checkRequestHoldMax, 2000);
  }

  protected override producerInner(): ProducerInner {
    return {
      ...super.producerInner(),
      checkTransactionState: (addr, msg, header) => this.enqueueCheck({ addr, msg, header }),
    };
  }

  /**
   * Sends `msg` as a half message, runs the local transaction and tells the broker its outcome.
   * Rejects only when the half message could not be sent (nothing is stored then).
   */
  async sendMessageInTransaction<A>(
    msg: Message,
    executeLocalTransaction: LocalTransactionExecutor<A>,
    arg?: A,
  ): Promise<TransactionSendResult> {
    this.makeSureStateOK();
    if (typeof executeLocalTransaction !== 'function') {
      throw new RmqError(ErrorCode.ILLEGAL_ARGUMENT, 'executeLocalTransaction is required');
    }
    if (msg.delayTimeLevel !== 0) {
      this.log.warn(
        { topic: msg.topic, delayTimeLevel: msg.delayTimeLevel },
        'a transactional message cannot be delayed: the delay level is ignored',
      );
      msg.delayTimeLevel = 0;
    }
    msg.properties.set(MessageProperty.TRANSACTION_PREPARED, 'true');
    msg.properties.set(MessageProperty.PRODUCER_GROUP, this.config.producerGroup);
    const sent = await this.send(msg);

    let state: LocalTransactionState = LocalTransactionState.UNKNOW;
    let localError: unknown;
    switch (sent.sendStatus) {
      case SendStatus.SEND_OK: {
        const uniq = msg.properties.get(MessageProperty.UNIQ_CLIENT_MESSAGE_ID_KEYIDX);
        if (uniq) msg.transactionId = uniq;
        try {
          state = this.checkState(await executeLocalTransaction(msg, arg as A), 'executeLocalTransaction');
        } catch (err) {
          localError = err;
          this.log.info(
            { msgId: sent.msgId, err: errorMessage(err) },
            'executeLocalTransaction threw; the broker will check back',
          );
        }
        break;
      }
      default:
        // Stored but not safely (flush or slave timeout): Java rolls back.
        state = LocalTransactionState.ROLLBACK_MESSAGE;
    }
    try {
      await this.endTransaction(sent, state, localError);
    } catch (err) {
      this.log.warn(
        { msgId: sent.msgId, state, err: errorMessage(err) },
        'local transaction done but END_TRANSACTION failed; the broker will check back',
      );
    }
    return new TransactionSendResult(sent, state);
  }

  private checkState(v: unknown, what: string): LocalTransactionState {
    if (typeof v === 'string' && STATES.has(v)) return v as LocalTransactionState;
    this.log.warn({ returned: v }, `${what} returned no LocalTransactionState; treated as UNKNOW`);
    return LocalTransactionState.UNKNOW;
  }

  private async endTransaction(
    sent: SendResult,
    state: LocalTransactionState,
    localError: unknown,
  ): Promise<void> {
    const { offset } = decodeOffsetMsgId(sent.offsetMsgId);
    const brokerName = sent.messageQueue.brokerName;
    const addr = this.instance!.findBrokerAddressInPublish(brokerName);
    if (!addr) throw new RmqError(ErrorCode.BROKER_NOT_FOUND, `The broker[${brokerName}] not exist`);
    await this.instance!.api.endTransactionOneway(
      addr,
      {
        producerGroup: this.config.producerGroup,
        tranStateTableOffset: sent.queueOffset,
        commitLogOffset: offset,
        commitOrRollback: endTransactionType(state),
        msgId: sent.msgId,
        transactionId: sent.transactionId,
      },
      localError === undefined
        ? undefined
        : `executeLocalTransactionBranch exception: ${errorMessage(localError)}`,
    );
  }

  // ---- check-back ----

  private enqueueCheck(task: CheckTask): void {
    if (this.checks.length >= this.checkHoldMax) {
      this.log.warn(
        { msgId: task.msg.msgId, waiting: this.checks.length },
        'too many transaction checks waiting; this one is dropped (the broker asks again)',
      );
      return;
    }
    this.checks.push(task);
    this.pumpChecks();
  }

  private pumpChecks(): void {
    while (this.checksRunning < this.checkConcurrency && this.checks.length > 0) {
      const task = this.checks.shift()!;
      this.checksRunning++;
      this.answerCheck(task)
        .catch((err: unknown) =>
          this.log.warn(
            { msgId: task.msg.msgId, err: errorMessage(err) },
            'answering a transaction check failed',
          ),
        )
        .finally(() => {
          this.checksRunning--;
          this.pumpChecks();
        });
    }
  }

  private async answerCheck({ addr, msg, header }: CheckTask): Promise<void> {
    let state: LocalTransactionState = LocalTransactionState.UNKNOW;
    let error: unknown;
    try {
      state = this.checkState(await this.checker(msg), 'checkLocalTransaction');
    } catch (err) {
      error = err;
      this.log.warn({ msgId: msg.msgId, err: errorMessage(err) }, 'checkLocalTransaction threw');
    }
    if (state !== LocalTransactionState.COMMIT_MESSAGE) {
      this.log.info({ msgId: msg.msgId, state }, 'transaction check answered without a commit');
    }
    const instance = this.instance;
    if (!instance?.running) return;
    await instance.api.endTransactionOneway(
      addr,
      {
        producerGroup: this.config.producerGroup,
        tranStateTableOffset: header.tranStateTableOffset,
        commitLogOffset: header.commitLogOffset,
        commitOrRollback: endTransactionType(state),
        fromTransactionCheck: true,
        msgId: msg.properties.get(MessageProperty.UNIQ_CLIENT_MESSAGE_ID_KEYIDX) ?? msg.msgId,
        transactionId: header.transactionId,
      },
      error === undefined ? undefined : `checkLocalTransactionState Exception: ${errorMessage(error)}`,
    );
  }
}
