import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Message } from '../../../src/client/message/message.js';
import {
  LocalTransactionState,
  TransactionProducer,
  type TransactionProducerOptions,
} from '../../../src/client/producer/transaction-producer.js';
import { ErrorCode, RmqError } from '../../../src/common/errors.js';

const base = { producerGroup: 'TPG', namesrvAddr: '127.0.0.1:9' };

describe('TransactionProducer', () => {
  test('needs checkLocalTransaction and positive check limits', () => {
    assert.throws(
      () => new TransactionProducer(base as unknown as TransactionProducerOptions),
      (e: unknown) => e instanceof RmqError && e.code === ErrorCode.ILLEGAL_ARGUMENT,
    );
    const checkLocalTransaction = () => LocalTransactionState.UNKNOW;
    assert.throws(
      () => new TransactionProducer({ ...base, checkLocalTransaction, checkThreadPoolMaxSize: 0 }),
      /checkThreadPoolMaxSize/,
    );
    assert.ok(new TransactionProducer({ ...base, checkLocalTransaction, checkRequestHoldMax: 10 }));
  });

  test('refuses to send before start', async () => {
    const p = new TransactionProducer({ ...base, checkLocalTransaction: () => LocalTransactionState.UNKNOW });
    await assert.rejects(
      p.sendMessageInTransaction(new Message('T', 'x'), () => LocalTransactionState.COMMIT_MESSAGE),
      (e: unknown) => e instanceof RmqError && e.code === ErrorCode.CLIENT_STATE,
    );
  });
});
