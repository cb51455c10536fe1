import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { getLogger } from '../../src/common/logger.js';
import { RequestDispatcher } from '../../src/remoting/dispatcher.js';
import { createRequest, type RemotingCommand } from '../../src/remoting/remoting-command.js';
import type { RemotingClient } from '../../src/remoting/remoting-client.js';
import { RequestCode } from '../../src/protocol/request-code.js';
import { ResponseCode } from '../../src/protocol/response-code.js';
import {
  CheckTransactionStateRequestHeader,
  ConsumerSendMsgBackRequestHeader,
  EndTransactionRequestHeader,
} from '../../src/protocol/broker-headers.js';
import { decodeLockBatchResponse, jsonBody } from '../../src/protocol/admin-bodies.js';
import { decodeRecords, type MessageExt } from '../../src/common/message/message-record.js';
import { decodeOffsetMsgId } from '../../src/common/message/message-id.js';
import { startBroker } from '../helpers/broker.js';
import { createTopic, heartbeat, pull, send, testClient } from '../helpers/broker-calls.js';
import { waitFor } from '../helpers/wait.js';

const FAST_LEVELS = { messageDelayLevel: '1s 2s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s' };

async function pullAll(c: RemotingClient, addr: string, topic: string, queueId = 0): Promise<MessageExt[]> {
  const out: MessageExt[] = [];
  let offset = 0;
  for (;;) {
    const r = await pull(c, addr, { topic, queueId, offset });
    if (r.code !== ResponseCode.SUCCESS) return out;
    out.push(...decodeRecords(r.body!));
    offset = Number(r.extFields!.nextBeginOffset);
  }
}

describe('delayed messages', () => {
  test('a delayed message is invisible until its level elapses, then delivered to its real topic and queue', async () => {
    const { addr, broker } = await startBroker({ props: FAST_LEVELS });
    const c = testClient();
    await createTopic(c, addr, 'Later', 2);
    const sentAt = Date.now();
    const res = await send(c, addr, {
      topic: 'Later',
      body: 'wait for it',
      queueId: 1,
      tags: 'T1',
      props: { DELAY: '1' },
    });
    assert.equal(res.code, ResponseCode.SUCCESS);
    assert.equal(res.extFields?.queueId, '1');
    assert.equal(broker.store.getMaxOffsetInQueue('SCHEDULE_TOPIC_XXXX', 0), 1, 'parked in level 1 queue');
    assert.equal((await pullAll(c, addr, 'Later', 1)).length, 0, 'not visible at once');
    const [msg] = await waitFor(async () => {
      const got = await pullAll(c, addr, 'Later', 1);
      return got.length > 0 ? got : undefined;
    }, 'delivery');
    assert.ok(
      msg!.storeTimestamp - sentAt >= 1000,
      `delivered after ${msg!.storeTimestamp - sentAt} ms, level 1 is 1 s`,
    );
    assert.equal(msg!.body.toString(), 'wait for it');
    assert.equal(msg!.properties.get('TAGS'), 'T1');
    assert.equal(msg!.properties.has('DELAY'), false);
    assert.equal(msg!.properties.get('REAL_TOPIC'), 'Later');
  });

  test('a delayed message is delivered after a broker restart in between, never early', async () => {
    const first = await startBroker({ props: FAST_LEVELS });
    const c = testClient();
    await createTopic(c, first.addr, 'Survive', 1);
    const sentAt = Date.now();
    await send(c, first.addr, { topic: 'Survive', body: 'across restart', props: { DELAY: '2' } });
    await first.broker.shutdown();
    const second = await startBroker({ dir: first.dir, props: FAST_LEVELS });
    const [msg] = await waitFor(async () => {
      const got = await pullAll(c, second.addr, 'Survive');
      return got.length > 0 ? got : undefined;
    }, 'delivery after restart');
    assert.ok(
      msg!.storeTimestamp - sentAt >= 2000,
      `level 2 is 2 s; delivered after ${msg!.storeTimestamp - sentAt} ms`,
    );
    await sleep(1500);
    assert.equal((await pullAll(c, second.addr, 'Survive')).length, 1, 'delivered once');
  });
});

describe('retry and dead letters', () => {
  test('send-back goes to %RETRY%<group> with reconsumeTimes + 1, then to %DLQ% past the limit', async () => {
    const { addr } = await startBroker({ props: FAST_LEVELS });
    const c = testClient();
    await createTopic(c, addr, 'Work', 1);
    const sent = await send(c, addr, { topic: 'Work', body: 'flaky', tags: 'TagA', keys: 'biz-1' });
    const original = (await pullAll(c, addr, 'Work'))[0]!;
    const sendBack = (m: MessageExt, max = 2): Promise<RemotingCommand> =>
      c.invoke(
        addr,
        createRequest(RequestCode.CONSUMER_SEND_MSG_BACK, {
          extFields: ConsumerSendMsgBackRequestHeader.encode({
            offset: m.commitLogOffset,
            group: 'RG',
            delayLevel: 0,
            originMsgId: m.msgId,
            maxReconsumeTimes: max,
          }),
        }),
      );
    assert.equal((await sendBack(original)).code, ResponseCode.SUCCESS);
    const retried = await waitFor(async () => (await pullAll(c, addr, '%RETRY%RG'))[0], 'first retry');
    assert.equal(retried.reconsumeTimes, 1);
    assert.equal(retried.body.toString(), 'flaky');
    assert.equal(retried.properties.get('RETRY_TOPIC'), 'Work');
    assert.equal(retried.properties.get('ORIGIN_MESSAGE_ID'), sent.extFields!.msgId);
    assert.equal(retried.properties.get('KEYS'), 'biz-1');

    await sendBack(retried);
    const second = await waitFor(async () => (await pullAll(c, addr, '%RETRY%RG'))[1], 'second retry');
    assert.equal(second.reconsumeTimes, 2);
    await sendBack(second);
    const dead = await waitFor(async () => (await pullAll(c, addr, '%DLQ%RG'))[0], 'dead letter');
    assert.equal(dead.reconsumeTimes, 3);
    assert.equal(dead.properties.get('RETRY_TOPIC'), 'Work');
    assert.equal(dead.properties.get('ORIGIN_MESSAGE_ID'), sent.extFields!.msgId);
  });

  test('a %RETRY% send past maxReconsumeTimes goes to %DLQ% at once, its DELAY dropped', async () => {
    // What a Java consumer's fallback sends when CONSUMER_SEND_MSG_BACK fails: DELAY 3 + times.
    const { addr, broker } = await startBroker();
    const c = testClient();
    const res = await send(c, addr, {
      topic: '%RETRY%FG',
      body: 'too many tries',
      reconsumeTimes: 3,
      maxReconsumeTimes: 3,
      props: { DELAY: '18', RETRY_TOPIC: 'Work' },
    });
    assert.equal(res.code, ResponseCode.SUCCESS);
    assert.equal(broker.store.getMaxOffsetInQueue('SCHEDULE_TOPIC_XXXX', 17), 0, 'not parked for 2 h');
    const [dead] = await pullAll(c, addr, '%DLQ%FG');
    assert.equal(dead?.body.toString(), 'too many tries');
    assert.equal(dead.properties.has('DELAY'), false);
    assert.equal(dead.reconsumeTimes, 3);
  });

  test('send-back of an unknown offset answers SYSTEM_ERROR', async () => {
    const { addr } = await startBroker();
    const c = testClient();
    const res = await c.invoke(
      addr,
      createRequest(RequestCode.CONSUMER_SEND_MSG_BACK, {
        extFields: ConsumerSendMsgBackRequestHeader.encode({ offset: 123456789, group: 'G', delayLevel: 0 }),
      }),
    );
    assert.equal(res.code, ResponseCode.SYSTEM_ERROR);
    assert.equal(res.remark, 'look message by offset failed, 123456789');
  });
});

describe('queue locks for orderly consumers', () => {
  test('one client holds a queue; another gets it after unlock', async () => {
    const { addr } = await startBroker();
    const c = testClient();
    const mqSet = [0, 1].map((queueId) => ({ topic: 'Ordered', brokerName: 'broker-a', queueId }));
    const lock = async (clientId: string, mqs = mqSet) =>
      decodeLockBatchResponse(
        (
          await c.invoke(
            addr,
            createRequest(RequestCode.LOCK_BATCH_MQ, {
              body: jsonBody({ consumerGroup: 'OG', clientId, mqSet: mqs }),
            }),
          )
        ).body,
      );
    assert.equal((await lock('c1')).length, 2);
    assert.equal((await lock('c2')).length, 0, 'held by c1');
    assert.equal((await lock('c1')).length, 2, 'renewed by its holder');
    await c.invoke(
      addr,
      createRequest(RequestCode.UNLOCK_BATCH_MQ, {
        body: jsonBody({ consumerGroup: 'OG', clientId: 'c1', mqSet: [mqSet[0]] }),
      }),
    );
    assert.deepEqual(
      (await lock('c2')).map((m) => m.queueId),
      [0],
    );
  });
});

describe('transactions', () => {
  const halfSpec = (body: string) => ({
    topic: 'TxTopic',
    body,
    tags: 'Tx',
    props: { TRAN_MSG: 'true', PGROUP: 'TxPG', UNIQ_KEY: `U-${body}` },
  });
  const end = (c: RemotingClient, addr: string, sent: RemotingCommand, body: string, decision: 8 | 12 | 0) =>
    c.invoke(
      addr,
      createRequest(RequestCode.END_TRANSACTION, {
        extFields: EndTransactionRequestHeader.encode({
          producerGroup: 'TxPG',
          tranStateTableOffset: Number(sent.extFields!.queueOffset),
          commitLogOffset: decodeOffsetMsgId(sent.extFields!.msgId!).offset,
          commitOrRollback: decision,
          msgId: `U-${body}`,
        }),
      }),
    );

  test('a half message is invisible; commit makes it appear once, rollback never', async () => {
    const { addr } = await startBroker();
    const c = testClient();
    await createTopic(c, addr, 'TxTopic', 1);
    const a = await send(c, addr, halfSpec('commit-me'));
    const b = await send(c, addr, halfSpec('roll-me-back'));
    assert.equal(a.code, ResponseCode.SUCCESS);
    assert.equal((await pullAll(c, addr, 'TxTopic')).length, 0, 'half messages are invisible');
    assert.equal((await end(c, addr, a, 'commit-me', 8)).code, ResponseCode.SUCCESS);
    assert.equal((await end(c, addr, b, 'roll-me-back', 12)).code, ResponseCode.SUCCESS);
    assert.equal(
      (await end(c, addr, a, 'commit-me', 8)).code,
      ResponseCode.SUCCESS,
      'a second decision is ignored',
    );
    const got = await pullAll(c, addr, 'TxTopic');
    assert.deepEqual(
      got.map((m) => m.body.toString()),
      ['commit-me'],
    );
    assert.equal(got[0]!.properties.has('TRAN_MSG'), false);
    assert.equal(got[0]!.properties.get('UNIQ_KEY'), 'U-commit-me');
    assert.equal(got[0]!.sysFlag & 0xc, 0x8, 'stored as a committed transaction message');
    const wrongGroup = await c.invoke(
      addr,
      createRequest(RequestCode.END_TRANSACTION, {
        extFields: EndTransactionRequestHeader.encode({
          producerGroup: 'Other',
          tranStateTableOffset: Number(b.extFields!.queueOffset),
          commitLogOffset: decodeOffsetMsgId(b.extFields!.msgId!).offset,
          commitOrRollback: 8,
          msgId: 'x',
        }),
      }),
    );
    assert.equal(wrongGroup.remark, 'The producer group wrong');
  });

  test('undecided half messages are checked back with the producer group, across a broker restart', async () => {
    const props = { transactionCheckInterval: '200', transactionTimeOut: '300' };
    const first = await startBroker({ props });
    const producerLog = getLogger('test.tx-producer');
    const checks: { header: Record<string, string>; msg: MessageExt }[] = [];
    const dispatcher = new RequestDispatcher(producerLog).register(
      RequestCode.CHECK_TRANSACTION_STATE,
      (req) => {
        const d = CheckTransactionStateRequestHeader.decode(req.extFields);
        assert.ok(d.ok);
        checks.push({ header: req.extFields!, msg: decodeRecords(req.body!)[0]! });
        return null;
      },
    );
    const c = testClient();
    await createTopic(c, first.addr, 'TxTopic', 1);
    await send(c, first.addr, halfSpec('unknown-then-commit'));
    // Restart between the half message and any decision.
    await first.broker.shutdown();
    const second = await startBroker({ dir: first.dir, props });
    const producer = testClient(dispatcher);
    await heartbeat(producer, second.addr, '127.0.0.1@tx', '', {}, 'CLUSTERING', ['TxPG']);
    const check = await waitFor(() => checks[0], 'a check-back');
    assert.equal(check.msg.topic, 'TxTopic', 'the check shows the real topic');
    assert.equal(check.msg.body.toString(), 'unknown-then-commit');
    assert.equal(check.header.msgId, 'U-unknown-then-commit');
    // Answer as a Java producer does after the check: oneway END with fromTransactionCheck.
    const reply = createRequest(RequestCode.END_TRANSACTION, {
      extFields: EndTransactionRequestHeader.encode({
        producerGroup: 'TxPG',
        tranStateTableOffset: Number(check.header.tranStateTableOffset),
        commitLogOffset: Number(check.header.commitLogOffset),
        commitOrRollback: 8,
        fromTransactionCheck: true,
        msgId: check.header.msgId!,
      }),
      oneway: true,
    });
    await producer.invokeOneway(second.addr, reply);
    const got = await waitFor(async () => {
      const m = await pullAll(c, second.addr, 'TxTopic');
      return m.length > 0 ? m : undefined;
    }, 'commit after check');
    assert.deepEqual(
      got.map((m) => m.body.toString()),
      ['unknown-then-commit'],
    );
    const before = checks.length;
    await sleep(1000);
    assert.equal(checks.length, before, 'a decided message is not checked again');
    assert.equal((await pullAll(c, second.addr, 'TxTopic')).length, 1);
  });

  test('after transactionCheckMax checks without a decision the half message is discarded', async () => {
    const { addr, broker } = await startBroker({
      props: { transactionCheckInterval: '100', transactionTimeOut: '0', transactionCheckMax: '2' },
    });
    const c = testClient();
    await createTopic(c, addr, 'TxTopic', 1);
    await send(c, addr, halfSpec('never-decided'));
    await waitFor(
      () =>
        broker.topics.has('TRANS_CHECK_MAX_TIME_TOPIC') &&
        broker.store.getMaxOffsetInQueue('TRANS_CHECK_MAX_TIME_TOPIC', 0) === 1,
      'discard',
    );
    const discarded = (await pullAll(c, addr, 'TRANS_CHECK_MAX_TIME_TOPIC'))[0]!;
    assert.equal(discarded.properties.get('TRANSACTION_CHECK_TIMES'), '2');
    assert.equal((await pullAll(c, addr, 'TxTopic')).length, 0);
  });
});
