import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRequest, type RemotingCommand } from '../../src/remoting/remoting-command.js';
import type { RemotingClient } from '../../src/remoting/remoting-client.js';
import { RequestCode } from '../../src/protocol/request-code.js';
import { ResponseCode } from '../../src/protocol/response-code.js';
import { ResumeCheckHalfMessageRequestHeader } from '../../src/protocol/admin-maintenance-headers.js';
import { createOffsetMsgId } from '../../src/common/message/message-id.js';
import { decodeRecords, type MessageExt } from '../../src/common/message/message-record.js';
import { LocalTransactionState, Message, SendStatus, TransactionProducer } from '../../src/index.js';
import { startBroker } from '../helpers/broker.js';
import { createTopic, pull, send, testClient } from '../helpers/broker-calls.js';
import { waitFor } from '../helpers/wait.js';
import {
  FAST_CLIENT,
  startCluster,
  track,
  createTopic as createRoutedTopic,
} from '../e2e/helpers/cluster.js';

const BODY = Buffer.alloc(3000, 7);

function call(c: RemotingClient, addr: string, code: number, extFields?: Record<string, string>) {
  return c.invoke(addr, createRequest(code, { extFields }));
}

function resume(c: RemotingClient, addr: string, msgId?: string): Promise<RemotingCommand> {
  return call(
    c,
    addr,
    RequestCode.RESUME_CHECK_HALF_MESSAGE,
    msgId === undefined ? {} : ResumeCheckHalfMessageRequestHeader.encode({ msgId }),
  );
}

async function pullAll(c: RemotingClient, addr: string, topic: string): Promise<MessageExt[]> {
  const out: MessageExt[] = [];
  let offset = 0;
  for (;;) {
    const r = await pull(c, addr, { topic, offset });
    if (r.code !== ResponseCode.SUCCESS) return out;
    out.push(...decodeRecords(r.body!));
    offset = Number(r.extFields!.nextBeginOffset);
  }
}

describe('store maintenance requests', () => {
  test('CLEAN_UNUSED_TOPIC removes the queues of a topic no longer configured, keeping the others', async () => {
    const { addr, broker } = await startBroker();
    const c = testClient();
    await createTopic(c, addr, 'Unused', 2);
    await createTopic(c, addr, 'Used', 1);
    for (const queueId of [0, 1]) await send(c, addr, { topic: 'Unused', body: 'x', queueId });
    await send(c, addr, { topic: 'Used', body: 'y' });
    // A pending half message: its topic is not in the topic config, and must survive.
    await send(c, addr, { topic: 'Used', body: 'half', props: { TRAN_MSG: 'true', PGROUP: 'PG' } });
    const cqRoot = join(broker.store.paths.consumeQueue);
    await waitFor(() => existsSync(join(cqRoot, 'Unused', '1')), 'queue files of Unused');
    await waitFor(() => existsSync(join(cqRoot, 'RMQ_SYS_TRANS_HALF_TOPIC', '0')), 'half queue files');
    // Dropped from the config only (say topics.json was edited while the broker was down).
    broker.topics.delete('Unused');
    const res = await call(c, addr, RequestCode.CLEAN_UNUSED_TOPIC);
    assert.equal(res.code, ResponseCode.SUCCESS);
    assert.equal(existsSync(join(cqRoot, 'Unused')), false, 'Unused queue directory deleted');
    assert.equal(broker.store.getMaxOffsetInQueue('Unused', 0), 0);
    assert.ok(existsSync(join(cqRoot, 'Used', '0')));
    assert.ok(existsSync(join(cqRoot, 'RMQ_SYS_TRANS_HALF_TOPIC', '0')));
    assert.equal((await pullAll(c, addr, 'Used')).length, 1);
  });

  test('DELETE_EXPIRED_COMMITLOG deletes expired segments outside deleteWhen; CLEAN_EXPIRED_CONSUMEQUEUE then drops the emptied queues', async () => {
    const notNow = String((new Date().getHours() + 12) % 24).padStart(2, '0');
    const { addr, broker } = await startBroker({
      props: {
        mappedFileSizeCommitLog: String(64 * 1024),
        fileReservedTime: '0',
        deleteWhen: notNow,
        deleteCommitLogFilesInterval: '0',
        cleanResourceInterval: '100',
        // Whatever this machine's disk holds, only the request may start deleting.
        diskMaxUsedSpaceRatio: '95',
        diskSpaceCleanForciblyRatio: '100',
        diskSpaceWarningLevelRatio: '100',
      },
    });
    const c = testClient();
    await createTopic(c, addr, 'Aged', 1);
    await createTopic(c, addr, 'Recent', 1);
    for (let i = 0; i < 45; i++) await send(c, addr, { topic: 'Aged', body: BODY });
    for (let i = 0; i < 30; i++) await send(c, addr, { topic: 'Recent', body: BODY });
    const store = broker.store;
    const commitLogDir = store.paths.commitLog;
    const segments = readdirSync(commitLogDir).length;
    assert.ok(segments >= 4, `segments: ${segments}`);
    await sleep(400);
    assert.equal(readdirSync(commitLogDir).length, segments, 'nothing deleted outside deleteWhen');

    const del = await call(c, addr, RequestCode.DELETE_EXPIRED_COMMITLOG);
    assert.equal(del.code, ResponseCode.SUCCESS);
    await waitFor(() => readdirSync(commitLogDir).length === 1, 'expired segments deleted');
    const min = store.getMinPhyOffset();
    assert.ok(min >= 3 * 64 * 1024);
    const agedDir = join(store.paths.consumeQueue, 'Aged');
    await waitFor(() => existsSync(agedDir), 'Aged queue files');

    const clean = await call(c, addr, RequestCode.CLEAN_EXPIRED_CONSUMEQUEUE);
    assert.equal(clean.code, ResponseCode.SUCCESS);
    assert.equal(existsSync(agedDir), false, 'Aged pointed only at deleted segments');
    assert.equal(store.consumeQueues.find('Aged', 0), undefined);
    const recentMin = store.getMinOffsetInQueue('Recent', 0);
    assert.ok(recentMin > 0 && recentMin < 30, `Recent min ${recentMin}`);
    assert.ok(((await store.getUnit('Recent', 0, recentMin)) ?? [-1])[0] >= min);
    // Aged is still a topic: its next message continues the numbering.
    const next = await send(c, addr, { topic: 'Aged', body: 'after' });
    assert.equal(next.extFields?.queueOffset, '45');
  });

  test('RESUME_CHECK_HALF_MESSAGE refuses bad input without harm', async () => {
    const { addr, broker } = await startBroker();
    const c = testClient();
    const missing = await resume(c, addr);
    assert.equal(missing.code, ResponseCode.SYSTEM_ERROR);
    assert.match(missing.remark!, /msgId/);
    const lookupFailed = 'Exception was thrown when putting message back to RMQ_SYS_TRANS_HALF_TOPIC.';
    for (const msgId of ['', 'not-hex', 'ABCD', createOffsetMsgId({ host: '127.0.0.1', port: 1 }, 1e12)]) {
      const r = await resume(c, addr, msgId);
      assert.equal(r.code, ResponseCode.SYSTEM_ERROR, msgId);
      assert.equal(r.remark, lookupFailed);
    }
    await createTopic(c, addr, 'Plain', 1);
    const plain = await send(c, addr, { topic: 'Plain', body: 'not a half message' });
    const r = await resume(c, addr, plain.extFields!.msgId);
    assert.equal(r.code, ResponseCode.SYSTEM_ERROR);
    assert.equal(r.remark, lookupFailed);
    assert.equal(broker.store.getMaxOffsetInQueue('RMQ_SYS_TRANS_HALF_TOPIC', 0), 0, 'nothing put back');
  });

  test('RESUME_CHECK_HALF_MESSAGE on a message discarded after transactionCheckMax checks gets it checked again and committed', async () => {
    const cluster = await startCluster({
      props: { transactionCheckInterval: '100', transactionTimeOut: '0', transactionCheckMax: '2' },
    });
    const { addr, broker } = cluster.brokers[0]!;
    const topic = 'ResumeTx';
    await createRoutedTopic(cluster, topic, 1);
    const checks: string[] = [];
    let answer: LocalTransactionState = LocalTransactionState.UNKNOW;
    const producer = track(
      new TransactionProducer({
        producerGroup: 'PG_resume',
        namesrvAddr: cluster.namesrvAddr,
        instanceName: 'resume-p',
        checkLocalTransaction: (msg) => {
          checks.push(msg.getProperty('TRANSACTION_CHECK_TIMES') ?? '');
          return answer;
        },
        ...FAST_CLIENT,
      }),
    );
    await producer.start();
    // Checks start at once (transactionTimeOut 0): the broker must know the producer first, which
    // heartbeats only to brokers it has a route to.
    await producer.send(new Message(topic, 'route'));
    await waitFor(() => broker.producers.availableChannel('PG_resume'), 'producer heartbeat');
    const sent = await producer.sendMessageInTransaction(new Message(topic, 'resume-me'), () =>
      Promise.resolve(LocalTransactionState.UNKNOW),
    );
    assert.equal(sent.sendStatus, SendStatus.SEND_OK);

    const c = testClient();
    const discardTopic = 'TRANS_CHECK_MAX_TIME_TOPIC';
    await waitFor(() => broker.store.getMaxOffsetInQueue(discardTopic, 0) === 1, 'discard after 2 checks');
    assert.deepEqual(checks, ['1', '2']);
    const [discarded] = await pullAll(c, addr, discardTopic);
    assert.equal(discarded!.properties.get('TRANSACTION_CHECK_TIMES'), '2');
    await sleep(300);
    assert.equal(checks.length, 2, 'a discarded message is not checked any more');

    answer = LocalTransactionState.COMMIT_MESSAGE;
    const res = await resume(c, addr, discarded!.msgId);
    assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
    const [committed] = await waitFor(async () => {
      const got = (await pullAll(c, addr, topic)).filter((m) => m.body.toString() !== 'route');
      return got.length > 0 ? got : undefined;
    }, 'commit after the resumed check');
    assert.equal(committed!.body.toString(), 'resume-me');
    assert.equal(committed!.properties.get('UNIQ_KEY'), sent.msgId);
    assert.deepEqual(checks, ['1', '2', '1'], 'checked again from a count of 0');
    await sleep(300);
    assert.equal((await pullAll(c, addr, topic)).length, 2, 'committed once, after the route message');
    assert.equal(checks.length, 3);
  });
});
