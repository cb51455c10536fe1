import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../helpers/wait.js';
import {
  FAST_CLIENT,
  createTopic,
  restartBroker,
  startCluster,
  track,
  collectingConsumer,
} from './helpers/cluster.js';
import {
  LocalTransactionState,
  Message,
  SendStatus,
  TransactionProducer,
  type LocalTransactionChecker,
  type MessageExt,
} from '../../src/index.js';

describe('transactional messages', async () => {
  // Check half messages older than 1 s, every 300 ms.
  const cluster = await startCluster({
    props: { transactionCheckInterval: '300', transactionTimeOut: '1000' },
  });
  const topic = 'E2E_Tx';
  await createTopic(cluster, topic, 2);

  /** What the checker is asked, and what it answers: per body, a list of answers in turn. */
  const checks: { body: string; msg: MessageExt }[] = [];
  const answers = new Map<string, LocalTransactionState[]>();
  const checker: LocalTransactionChecker = (msg) => {
    const body = msg.body.toString();
    checks.push({ body, msg });
    const list = answers.get(body) ?? [];
    return list.length > 1 ? list.shift()! : (list[0] ?? LocalTransactionState.UNKNOW);
  };
  const producer = track(
    new TransactionProducer({
      producerGroup: 'PG_tx',
      namesrvAddr: cluster.namesrvAddr,
      instanceName: 'tx-p',
      checkLocalTransaction: checker,
      ...FAST_CLIENT,
    }),
  );
  await producer.start();

  const { got } = await collectingConsumer(cluster, 'CG_tx', topic, {
    instanceName: 'tx-c',
    ...FAST_CLIENT,
  });
  const received = (body: string): MessageExt[] => got.filter((m) => m.body.toString() === body);
  /** A plain message after which everything stored before it has been consumed. */
  const barrier = async (name: string): Promise<void> => {
    const r = await producer.send(new Message(topic, name));
    await waitFor(() => got.some((m) => m.msgId === r.msgId), name);
  };

  test('COMMIT_MESSAGE makes the message visible once; ROLLBACK_MESSAGE never', async () => {
    const seenByExecutor: Message[] = [];
    const commit = await producer.sendMessageInTransaction(
      new Message(topic, 'committed', { tags: 'Tx', keys: 'order-1' }),
      (msg, arg: { orderId: number }) => {
        seenByExecutor.push(msg);
        assert.equal(arg.orderId, 1);
        return LocalTransactionState.COMMIT_MESSAGE;
      },
      { orderId: 1 },
    );
    assert.equal(commit.sendStatus, SendStatus.SEND_OK);
    assert.equal(commit.localTransactionState, LocalTransactionState.COMMIT_MESSAGE);
    assert.equal(seenByExecutor[0]!.transactionId, commit.msgId);
    assert.equal(seenByExecutor[0]!.getProperty('TRAN_MSG'), 'true');
    assert.equal(seenByExecutor[0]!.getProperty('PGROUP'), 'PG_tx');

    const rollback = await producer.sendMessageInTransaction(new Message(topic, 'rolled back'), () =>
      Promise.resolve(LocalTransactionState.ROLLBACK_MESSAGE),
    );
    assert.equal(rollback.localTransactionState, LocalTransactionState.ROLLBACK_MESSAGE);

    await waitFor(() => received('committed').length === 1, 'the committed message');
    const [m] = received('committed');
    assert.equal(m!.msgId, commit.msgId);
    assert.equal(m!.tags, 'Tx');
    assert.deepEqual(m!.keys, ['order-1']);
    assert.equal(m!.properties.has('TRAN_MSG'), false);
    assert.equal(m!.sysFlag & 0xc, 0x8, 'a committed transaction message');
    await barrier('barrier-1');
    assert.equal(received('rolled back').length, 0);
    assert.equal(received('committed').length, 1);
    assert.ok(
      !checks.some((c) => c.body === 'committed' || c.body === 'rolled back'),
      'decided: never checked',
    );
  });

  test('a throwing local transaction is checked back; a delay level is ignored', async () => {
    answers.set('threw', [LocalTransactionState.COMMIT_MESSAGE]);
    const r = await producer.sendMessageInTransaction(
      new Message(topic, 'threw', { delayTimeLevel: 18 }),
      () => {
        throw new Error('local database down');
      },
    );
    assert.equal(r.localTransactionState, LocalTransactionState.UNKNOW);
    const [m] = await waitFor(() => {
      const list = received('threw');
      return list.length > 0 ? list : undefined;
    }, 'the message after the check-back');
    assert.equal(m!.properties.has('DELAY'), false, 'not delayed (level 18 would be 2 h)');
    const check = checks.find((c) => c.body === 'threw')!;
    assert.equal(check.msg.topic, topic, 'the check shows the real topic');
    assert.equal(check.msg.msgId, r.msgId);
    assert.equal(check.msg.transactionId, r.msgId);
  });

  test('UNKNOW, a broker restart, then check-backs decide: commit (after an UNKNOW answer) and rollback', async () => {
    answers.set('unknown then commit', [LocalTransactionState.UNKNOW, LocalTransactionState.COMMIT_MESSAGE]);
    answers.set('unknown then rollback', [LocalTransactionState.ROLLBACK_MESSAGE]);
    const a = await producer.sendMessageInTransaction(
      new Message(topic, 'unknown then commit'),
      () => LocalTransactionState.UNKNOW,
    );
    const b = await producer.sendMessageInTransaction(
      new Message(topic, 'unknown then rollback'),
      () => LocalTransactionState.UNKNOW,
    );
    assert.equal(a.localTransactionState, LocalTransactionState.UNKNOW);
    assert.equal(b.localTransactionState, LocalTransactionState.UNKNOW);
    assert.equal(received('unknown then commit').length, 0, 'not visible while undecided');

    // Between the half messages and any decision.
    await restartBroker(cluster);

    await waitFor(
      () => received('unknown then commit').length === 1,
      'commit after the second check',
      20_000,
    );
    const checked = (body: string) => checks.filter((c) => c.body === body).length;
    assert.ok(checked('unknown then commit') >= 2, 'the first answer was UNKNOW: checked again');
    await waitFor(() => checked('unknown then rollback') >= 1, 'the rollback check');
    // Decided messages are not checked again: wait for a few more check rounds.
    const counts = [checked('unknown then commit'), checked('unknown then rollback')];
    await producer.sendMessageInTransaction(new Message(topic, 'late'), () => LocalTransactionState.UNKNOW);
    await waitFor(
      () => checks.filter((c) => c.body === 'late').length >= 2,
      'two check rounds of a later undecided message',
      20_000,
    );
    assert.deepEqual([checked('unknown then commit'), checked('unknown then rollback')], counts);
    answers.set('late', [LocalTransactionState.ROLLBACK_MESSAGE]);
    await barrier('barrier-2');
    assert.equal(received('unknown then commit').length, 1, 'committed once');
    assert.equal(received('unknown then rollback').length, 0, 'rolled back');
    assert.equal(received('unknown then commit')[0]!.msgId, a.msgId);
  });
});
