/**
 * The answer to a send. Stored-but-degraded answers are statuses, not errors, as upstream:
 * SUCCESS (0) -> SEND_OK, FLUSH_DISK_TIMEOUT (10), FLUSH_SLAVE_TIMEOUT (12), SLAVE_NOT_AVAILABLE
 * (11). msgId is the client's UNIQ_KEY (comma-joined for a batch), offsetMsgId the broker's id.
 */
import { ResponseCode } from '../../protocol/response-code.js';
import { messageQueueToString, type MessageQueue } from '../message/message-queue.js';

export const SendStatus = {
  SEND_OK: 'SEND_OK',
  FLUSH_DISK_TIMEOUT: 'FLUSH_DISK_TIMEOUT',
  FLUSH_SLAVE_TIMEOUT: 'FLUSH_SLAVE_TIMEOUT',
  SLAVE_NOT_AVAILABLE: 'SLAVE_NOT_AVAILABLE',
} as const;
export type SendStatus = (typeof SendStatus)[keyof typeof SendStatus];

/** The send status of a response code, or undefined when the code is an error. */
export function sendStatusOf(code: number): SendStatus | undefined {
  switch (code) {
    case ResponseCode.SUCCESS:
      return SendStatus.SEND_OK;
    case ResponseCode.FLUSH_DISK_TIMEOUT:
      return SendStatus.FLUSH_DISK_TIMEOUT;
    case ResponseCode.FLUSH_SLAVE_TIMEOUT:
      return SendStatus.FLUSH_SLAVE_TIMEOUT;
    case ResponseCode.SLAVE_NOT_AVAILABLE:
      return SendStatus.SLAVE_NOT_AVAILABLE;
    default:
      return undefined;
  }
}

export class SendResult {
  constructor(
    readonly sendStatus: SendStatus,
    readonly msgId: string,
    readonly offsetMsgId: string,
    readonly messageQueue: MessageQueue,
    readonly queueOffset: number,
    readonly transactionId: string | undefined = undefined,
    readonly regionId = 'DefaultRegion',
    readonly traceOn = true,
  ) {}

  /** Upstream's SendResult.toString, as the quickstart prints it. */
  toString(): string {
    return (
      `SendResult [sendStatus=${this.sendStatus}, msgId=${this.msgId}, offsetMsgId=${this.offsetMsgId}, ` +
      `messageQueue=${messageQueueToString(this.messageQueue)}, queueOffset=${this.queueOffset}]`
    );
  }
}

/** Callback form of an asynchronous send. */
export interface SendCallback {
  onSuccess(result: SendResult): void;
  onException(err: Error): void;
}
