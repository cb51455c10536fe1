import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getLogger } from '../../src/common/logger.js';
import { RequestDispatcher } from '../../src/remoting/dispatcher.js';
import { createRequest, type RemotingCommand } from '../../src/remoting/remoting-command.js';
import { RequestCode } from '../../src/protocol/request-code.js';
import { ResponseCode } from '../../src/protocol/response-code.js';
import { failure } from '../../src/protocol/request-helpers.js';
import {
  ConsumeMessageDirectlyResultRequestHeader,
  GetConsumerRunningInfoRequestHeader,
  GetConsumerStatusRequestHeader,
  ResetOffsetRequestHeader,
  UpdateConsumerOffsetRequestHeader,
} from '../../src/protocol/broker-headers.js';
import { GetRouteInfoRequestHeader } from '../../src/protocol/namesrv-headers.js';
import { decodeResetOffsetBody } from '../../src/protocol/admin-bodies.js';
import {
  decodeConsumeMessageDirectlyResult,
  decodeGetConsumerStatusBody,
} from '../../src/protocol/admin-call-bodies.js';
import { parseJson } from '../../src/protocol/fastjson.js';
import {
  ConsumeConcurrentlyStatus,
  ConsumeOrderlyStatus,
  PushConsumer,
  type MessageExt,
} from '../../src/index.js';
import { startNamesrv } from '../helpers/namesrv.js';
import { startBroker } from '../helpers/broker.js';
import { createTopic, heartbeat, send, testClient } from '../helpers/broker-calls.js';
import { waitFor } from '../helpers/wait.js';

const TOPIC = 'ACC_Topic';
const GROUP = 'CG_acc';
const N = 10;

describe('admin calls the broker relays to consumers', async () => {
  const ns = await startNamesrv();
  const { broker, addr } = await startBroker({ namesrvAddr: ns.addr });
  const admin = testClient();
  const call = (code: number, extFields: Record<string, string>): Promise<RemotingCommand> =>
    admin.invoke(addr, createRequest(code, { extFields }), 15_000);

  assert.equal((await createTopic(admin, addr, TOPIC, 2)).code, ResponseCode.SUCCESS);
  await waitFor(
    async () =>
      (
        await admin.invoke(
          ns.addr,
          createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, {
            extFields: GetRouteInfoRequestHeader.encode({ topic: TOPIC }),
          }),
        )
      ).code === ResponseCode.SUCCESS,
    'the route of the topic',
  );
  const msgIds: string[] = [];
  for (let i = 0; i < N; i++) {
    const r = await send(admin, addr, { topic: TOPIC, body: `m${i}`, queueId: i % 2 });
    assert.equal(r.code, ResponseCode.SUCCESS);
    msgIds.push(r.extFields!.msgId!);
  }

  // What the listener answers, so a test can make it ask for a later retry or throw.
  let mode: 'ok' | 'later' | 'throw' = 'ok';
  const got: MessageExt[] = [];
  const consumer = new PushConsumer({
    consumerGroup: GROUP,
    namesrvAddr: ns.addr,
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    instanceName: 'acc-push',
    persistConsumerOffsetInterval: 200,
  });
  after(() => consumer.shutdown());
  consumer.subscribe(TOPIC, '*');
  consumer.registerMessageListener((msgs) => {
    if (mode === 'throw') throw new Error('listener exploded');
    got.push(...msgs);
    return mode === 'later'
      ? ConsumeConcurrentlyStatus.RECONSUME_LATER
      : ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
  });
  await consumer.start();
  const clientId = consumer.clientId!;
  await waitFor(() => got.length >= N, 'the first pass');
  await waitFor(
    () => [0, 1].every((q) => broker.offsets.query(GROUP, TOPIC, q) === N / 2),
    'committed offsets on the broker',
  );

  // A consumer speaking raw remoting: it records what the broker sends it and answers as told.
  const toRaw: RemotingCommand[] = [];
  const d = new RequestDispatcher(getLogger('test.raw-consumer'));
  d.register(RequestCode.RESET_CONSUMER_CLIENT_OFFSET, (request) => {
    toRaw.push(request);
    return null;
  });
  d.register(RequestCode.GET_CONSUMER_RUNNING_INFO, (request) =>
    failure(request, ResponseCode.SYSTEM_ERROR, 'raw client says no'),
  );
  d.register(RequestCode.CONSUME_MESSAGE_DIRECTLY, (_request, ctx) => {
    ctx.channel.close();
    return null;
  });
  const raw = testClient(d);
  assert.equal((await heartbeat(raw, addr, 'raw@1', 'CG_raw', { [TOPIC]: '*' })).code, 0);
  for (const queueId of [0, 1]) {
    for (const group of ['CG_raw', 'CG_gone']) {
      await admin.invoke(
        addr,
        createRequest(RequestCode.UPDATE_CONSUMER_OFFSET, {
          extFields: UpdateConsumerOffsetRequestHeader.encode({
            consumerGroup: group,
            topic: TOPIC,
            queueId,
            commitOffset: 1,
          }),
        }),
      );
    }
  }

  test('GET_CONSUMER_RUNNING_INFO answers the running info of the named consumer', async () => {
    const res = await call(
      RequestCode.GET_CONSUMER_RUNNING_INFO,
      GetConsumerRunningInfoRequestHeader.encode({ consumerGroup: GROUP, clientId, jstackEnable: false }),
    );
    assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
    const info = parseJson(res.body!.toString()) as Record<string, unknown>;
    assert.equal((info.properties as Record<string, string>).consumerGroup, GROUP);
    assert.ok((info.subscriptionSet as { topic: string }[]).some((s) => s.topic === TOPIC));
  });

  test('GET_CONSUMER_RUNNING_INFO for a client id that is not online answers SYSTEM_ERROR naming it', async () => {
    const res = await call(
      RequestCode.GET_CONSUMER_RUNNING_INFO,
      GetConsumerRunningInfoRequestHeader.encode({ consumerGroup: GROUP, clientId: 'nobody@1' }),
    );
    assert.equal(res.code, ResponseCode.SYSTEM_ERROR);
    assert.equal(res.remark, `The Consumer <${GROUP}> <nobody@1> not online`);
    const bad = await call(RequestCode.GET_CONSUMER_RUNNING_INFO, { consumerGroup: GROUP });
    assert.equal(bad.code, ResponseCode.SYSTEM_ERROR);
    assert.match(bad.remark!, /missing required field clientId/);
  });

  test('CONSUME_MESSAGE_DIRECTLY runs the listener on the stored message and reports CR_SUCCESS', async () => {
    const before = got.length;
    const res = await call(
      RequestCode.CONSUME_MESSAGE_DIRECTLY,
      ConsumeMessageDirectlyResultRequestHeader.encode({ consumerGroup: GROUP, clientId, msgId: msgIds[3] }),
    );
    assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
    const r = decodeConsumeMessageDirectlyResult(res.body);
    assert.equal(r.consumeResult, 'CR_SUCCESS');
    assert.equal(r.order, false);
    assert.equal(r.autoCommit, true);
    assert.equal(got.length, before + 1);
    const m = got[got.length - 1]!;
    assert.equal(m.body.toString(), 'm3');
    assert.equal(m.brokerName, 'broker-a');
    assert.equal(m.offsetMsgId, msgIds[3]);
  });

  test('CONSUME_MESSAGE_DIRECTLY reports CR_LATER and CR_THROW_EXCEPTION as the listener answers', async () => {
    const header = ConsumeMessageDirectlyResultRequestHeader.encode({
      consumerGroup: GROUP,
      clientId,
      msgId: msgIds[0],
    });
    mode = 'later';
    const later = await call(RequestCode.CONSUME_MESSAGE_DIRECTLY, header).finally(() => (mode = 'ok'));
    assert.equal(decodeConsumeMessageDirectlyResult(later.body).consumeResult, 'CR_LATER');
    mode = 'throw';
    const threw = await call(RequestCode.CONSUME_MESSAGE_DIRECTLY, header).finally(() => (mode = 'ok'));
    const r = decodeConsumeMessageDirectlyResult(threw.body);
    assert.equal(r.consumeResult, 'CR_THROW_EXCEPTION');
    assert.match(r.remark!, /Error: listener exploded/);
  });

  test('CONSUME_MESSAGE_DIRECTLY with a bad msgId or an unknown client answers SYSTEM_ERROR', async () => {
    const bad = await call(
      RequestCode.CONSUME_MESSAGE_DIRECTLY,
      ConsumeMessageDirectlyResultRequestHeader.encode({ consumerGroup: GROUP, clientId, msgId: 'XYZ' }),
    );
    assert.equal(bad.code, ResponseCode.SYSTEM_ERROR);
    assert.match(bad.remark!, /not an offset message id: XYZ/);
    const offline = await call(
      RequestCode.CONSUME_MESSAGE_DIRECTLY,
      ConsumeMessageDirectlyResultRequestHeader.encode({
        consumerGroup: 'CG_none',
        clientId,
        msgId: msgIds[0],
      }),
    );
    assert.equal(offline.code, ResponseCode.SYSTEM_ERROR);
    assert.equal(offline.remark, `The Consumer <CG_none> <${clientId}> not online`);
  });

  test('CONSUME_MESSAGE_DIRECTLY on an orderly consumer reports order=true', async () => {
    const seen: string[] = [];
    const orderly = new PushConsumer({
      consumerGroup: 'CG_acc_orderly',
      namesrvAddr: ns.addr,
      consumeFromWhere: 'CONSUME_FROM_LAST_OFFSET',
      instanceName: 'acc-orderly',
    });
    after(() => orderly.shutdown());
    orderly.subscribe(TOPIC, '*');
    orderly.registerMessageListenerOrderly((msgs) => {
      seen.push(...msgs.map((m) => m.body.toString()));
      return ConsumeOrderlyStatus.SUCCESS;
    });
    await orderly.start();
    const res = await call(
      RequestCode.CONSUME_MESSAGE_DIRECTLY,
      ConsumeMessageDirectlyResultRequestHeader.encode({
        consumerGroup: 'CG_acc_orderly',
        clientId: orderly.clientId!,
        msgId: msgIds[5],
      }),
    );
    assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
    const r = decodeConsumeMessageDirectlyResult(res.body);
    assert.deepEqual([r.order, r.consumeResult], [true, 'CR_SUCCESS']);
    assert.deepEqual(seen, ['m5']);
    await orderly.shutdown();
  });

  test('INVOKE_BROKER_TO_GET_CONSUMER_STATUS answers each consumer offsets by client id', async () => {
    const res = await call(
      RequestCode.INVOKE_BROKER_TO_GET_CONSUMER_STATUS,
      GetConsumerStatusRequestHeader.encode({ topic: TOPIC, group: GROUP }),
    );
    assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
    const body = decodeGetConsumerStatusBody(res.body);
    assert.deepEqual([...body.consumerTable.keys()], [clientId]);
    const offsets = body.consumerTable.get(clientId)!;
    assert.deepEqual(offsets.map(([mq, o]) => [mq.queueId, o]).sort(), [
      [0, N / 2],
      [1, N / 2],
    ]);
    const other = await call(
      RequestCode.INVOKE_BROKER_TO_GET_CONSUMER_STATUS,
      GetConsumerStatusRequestHeader.encode({ topic: TOPIC, group: GROUP, clientAddr: 'someone-else' }),
    );
    assert.equal(decodeGetConsumerStatusBody(other.body).consumerTable.size, 0);
    const none = await call(
      RequestCode.INVOKE_BROKER_TO_GET_CONSUMER_STATUS,
      GetConsumerStatusRequestHeader.encode({ topic: TOPIC, group: 'CG_none' }),
    );
    assert.equal(none.code, ResponseCode.SYSTEM_ERROR);
    assert.equal(none.remark, 'No Any Consumer online in the consumer group: [CG_none]');
  });

  test('INVOKE_BROKER_TO_RESET_OFFSET moves the consumer back so it receives the messages again', async () => {
    const before = got.length;
    const res = await call(
      RequestCode.INVOKE_BROKER_TO_RESET_OFFSET,
      ResetOffsetRequestHeader.encode({ topic: TOPIC, group: GROUP, timestamp: 0, isForce: true }),
    );
    assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
    const offsets = decodeResetOffsetBody(res.body);
    assert.deepEqual(offsets.map(([mq, o]) => [mq.topic, mq.brokerName, mq.queueId, o]).sort(), [
      [TOPIC, 'broker-a', 0, 0],
      [TOPIC, 'broker-a', 1, 0],
    ]);
    await waitFor(() => got.length >= before + N, 'the second pass after the reset');
    const again = got.slice(before).map((m) => m.body.toString());
    for (let i = 0; i < N; i++) assert.ok(again.includes(`m${i}`), `m${i} consumed again`);
  });

  test('INVOKE_BROKER_TO_RESET_OFFSET tells every consumer; without isForce it never moves one forward', async () => {
    const reset = async (isForce: boolean, language?: string): Promise<RemotingCommand> => {
      const request = createRequest(RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, {
        extFields: ResetOffsetRequestHeader.encode({ topic: TOPIC, group: 'CG_raw', timestamp: -1, isForce }),
      });
      if (language) request.language = language;
      return admin.invoke(addr, request);
    };
    const queueOffsets = (offsets: [{ queueId: number }, number][]): number[][] =>
      offsets.map(([mq, o]) => [mq.queueId, o]).sort();

    const kept = await reset(false);
    assert.equal(kept.code, ResponseCode.SUCCESS, kept.remark);
    // Committed 1, the queue's end is N/2: only a forced reset goes forward.
    assert.deepEqual(queueOffsets(decodeResetOffsetBody(kept.body)), [
      [0, 1],
      [1, 1],
    ]);
    await waitFor(() => toRaw.length === 1, 'the reset sent to the raw consumer');
    const notice = toRaw[0]!;
    const header = ResetOffsetRequestHeader.decode(notice.extFields);
    assert.ok(header.ok);
    assert.deepEqual(header.value, { topic: TOPIC, group: 'CG_raw', timestamp: -1, isForce: false });
    assert.deepEqual(queueOffsets(decodeResetOffsetBody(notice.body)), [
      [0, 1],
      [1, 1],
    ]);

    const forced = await reset(true, 'CPP');
    assert.deepEqual(queueOffsets(decodeResetOffsetBody(forced.body)), [
      [0, N / 2],
      [1, N / 2],
    ]);
    await waitFor(() => toRaw.length === 2, 'the second reset sent to the raw consumer');
    // A C++ client gets the offsets as a list.
    const forC = parseJson(toRaw[1]!.body!.toString()) as { offsetTable: Record<string, unknown>[] };
    assert.deepEqual(forC.offsetTable.map((e) => [e.topic, e.brokerName, e.queueId, e.offset]).sort(), [
      [TOPIC, 'broker-a', 0, N / 2],
      [TOPIC, 'broker-a', 1, N / 2],
    ]);
  });

  test('INVOKE_BROKER_TO_RESET_OFFSET errors: unknown topic, unknown group, no consumer online', async () => {
    const reset = (topic: string, group: string): Promise<RemotingCommand> =>
      call(
        RequestCode.INVOKE_BROKER_TO_RESET_OFFSET,
        ResetOffsetRequestHeader.encode({ topic, group, timestamp: 0, isForce: true }),
      );
    const noTopic = await reset('ACC_NoSuchTopic', GROUP);
    assert.equal(noTopic.code, ResponseCode.SYSTEM_ERROR);
    assert.match(noTopic.remark!, /no topic in this broker\. topic=ACC_NoSuchTopic/);
    const noGroup = await reset(TOPIC, 'CG_never');
    assert.equal(noGroup.code, ResponseCode.SYSTEM_ERROR);
    assert.match(noGroup.remark!, /consumer group <CG_never> not exist/);
    const offline = await reset(TOPIC, 'CG_gone');
    assert.equal(offline.code, ResponseCode.CONSUMER_NOT_ONLINE);
    assert.equal(
      offline.remark,
      `Consumer not online, so can not reset offset, Group: CG_gone Topic: ${TOPIC} Timestamp: 0`,
    );
    const bad = await call(RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, { topic: TOPIC, group: GROUP });
    assert.equal(bad.code, ResponseCode.SYSTEM_ERROR);
    assert.match(bad.remark!, /missing required field timestamp/);
  });

  test("a client's own error answer is relayed, and a client that drops its connection fails only that call", async () => {
    const relayed = await call(
      RequestCode.GET_CONSUMER_RUNNING_INFO,
      GetConsumerRunningInfoRequestHeader.encode({ consumerGroup: 'CG_raw', clientId: 'raw@1' }),
    );
    assert.deepEqual([relayed.code, relayed.remark], [ResponseCode.SYSTEM_ERROR, 'raw client says no']);
    const dropped = await call(
      RequestCode.CONSUME_MESSAGE_DIRECTLY,
      ConsumeMessageDirectlyResultRequestHeader.encode({
        consumerGroup: 'CG_raw',
        clientId: 'raw@1',
        msgId: msgIds[0],
      }),
    );
    assert.equal(dropped.code, ResponseCode.SYSTEM_ERROR);
    assert.match(dropped.remark!, /^invoke consumer <CG_raw> <raw@1> Exception: .*connection closed/);
    // The broker still serves everyone else.
    const ok = await call(
      RequestCode.GET_CONSUMER_RUNNING_INFO,
      GetConsumerRunningInfoRequestHeader.encode({ consumerGroup: GROUP, clientId }),
    );
    assert.equal(ok.code, ResponseCode.SUCCESS);
    // Before the broker's own shutdown (registered earlier), so the consumer leaves quietly.
    await consumer.shutdown();
  });
});
