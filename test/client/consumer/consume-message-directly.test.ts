import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getLogger } from '../../../src/common/logger.js';
import { decodeRecords } from '../../../src/common/message/message-record.js';
import { createRequest, type RemotingCommand } from '../../../src/remoting/remoting-command.js';
import type { Channel } from '../../../src/remoting/channel.js';
import { RequestCode } from '../../../src/protocol/request-code.js';
import { ResponseCode } from '../../../src/protocol/response-code.js';
import { ConsumeMessageDirectlyResultRequestHeader } from '../../../src/protocol/broker-headers.js';
import { decodeConsumeMessageDirectlyResult } from '../../../src/protocol/admin-call-bodies.js';
import { createClientDispatcher } from '../../../src/client/client-remoting-processor.js';
import type { ConsumerInner, MQClientInstance } from '../../../src/client/client-instance.js';
import { MessageExt } from '../../../src/client/message/message-ext.js';
import {
  consumeMessageDirectly,
  type DirectListener,
} from '../../../src/client/consumer/consume-message-directly.js';
import { ConsumeConcurrentlyStatus } from '../../../src/client/consumer/consume-concurrently-service.js';
import { ConsumeOrderlyStatus } from '../../../src/client/consumer/consume-orderly-service.js';
import { storedRecord } from '../../helpers/stored-record.js';

function record(topic: string, props: Record<string, string> = {}): Buffer {
  return storedRecord({ topic, body: 'hello', queueId: 2, queueOffset: 9, props });
}

function message(topic: string, props: Record<string, string> = {}): MessageExt {
  return new MessageExt(decodeRecords(record(topic, props))[0]!, 'broker-a');
}

describe('consumeMessageDirectly', () => {
  test('runs a concurrent listener once on the message, with its queue, and maps its answer', async () => {
    const seen: [string, string, number][] = [];
    let answer: unknown = ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    const listener = {
      orderly: false,
      fn: (msgs, ctx) => {
        seen.push([msgs[0]!.body.toString(), ctx.messageQueue.brokerName, ctx.messageQueue.queueId]);
        return answer;
      },
    } as DirectListener;
    const ok = await consumeMessageDirectly(listener, 'G', message('T'), 'broker-x');
    assert.deepEqual(
      [ok.order, ok.autoCommit, ok.consumeResult, ok.remark],
      [false, true, 'CR_SUCCESS', undefined],
    );
    assert.deepEqual(seen, [['hello', 'broker-x', 2]]);
    answer = ConsumeConcurrentlyStatus.RECONSUME_LATER;
    assert.equal((await consumeMessageDirectly(listener, 'G', message('T'), 'b')).consumeResult, 'CR_LATER');
    answer = undefined;
    assert.equal(
      (await consumeMessageDirectly(listener, 'G', message('T'), 'b')).consumeResult,
      'CR_RETURN_NULL',
    );
    answer = 'SOMETHING_ELSE';
    assert.equal((await consumeMessageDirectly(listener, 'G', message('T'), 'b')).consumeResult, undefined);
  });

  test('an orderly listener reports order=true; SUSPEND is CR_LATER, a rejection CR_THROW_EXCEPTION', async () => {
    let answer: () => Promise<unknown> = () =>
      Promise.resolve(ConsumeOrderlyStatus.SUSPEND_CURRENT_QUEUE_A_MOMENT);
    const listener = { orderly: true, fn: () => answer() } as unknown as DirectListener;
    const later = await consumeMessageDirectly(listener, 'G', message('T'), 'b');
    assert.deepEqual([later.order, later.consumeResult], [true, 'CR_LATER']);
    answer = () => Promise.reject(new TypeError('bad input'));
    const threw = await consumeMessageDirectly(listener, 'G', message('T'), 'b');
    assert.equal(threw.consumeResult, 'CR_THROW_EXCEPTION');
    assert.match(threw.remark!, /^TypeError: bad input/);
  });

  test("a message of the group's retry topic is shown with its original topic", async () => {
    const topics: string[] = [];
    const listener: DirectListener = {
      orderly: false,
      fn: (msgs) => {
        topics.push(msgs[0]!.topic);
        return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
      },
    };
    await consumeMessageDirectly(listener, 'G', message('%RETRY%G', { RETRY_TOPIC: 'Orig' }), 'b');
    assert.deepEqual(topics, ['Orig']);
  });
});

describe('CONSUME_MESSAGE_DIRECTLY in the client', () => {
  const push: Pick<ConsumerInner, 'group' | 'consumeMessageDirectly'> = {
    group: 'PUSH',
    consumeMessageDirectly: (msg, brokerName) =>
      Promise.resolve({
        order: false,
        autoCommit: true,
        consumeResult: 'CR_SUCCESS',
        remark: `${msg.body.toString()}@${brokerName}`,
        spentTimeMills: 0,
      }),
  };
  const lite: Pick<ConsumerInner, 'group'> = { group: 'LITE' };
  const instance = {
    log: getLogger('test.client-processor'),
    consumer: (g: string) => ({ PUSH: push, LITE: lite })[g],
    findBrokerNameByAddr: () => 'broker-a',
  } as unknown as MQClientInstance;

  async function ask(group: string, body?: Buffer, brokerName?: string): Promise<RemotingCommand> {
    const written: RemotingCommand[] = [];
    const channel = {
      remoteAddress: '127.0.0.1:10911',
      write: (c: RemotingCommand) => written.push(c) > 0,
    } as unknown as Channel;
    createClientDispatcher(instance).dispatch(
      createRequest(RequestCode.CONSUME_MESSAGE_DIRECTLY, {
        extFields: ConsumeMessageDirectlyResultRequestHeader.encode({
          consumerGroup: group,
          clientId: 'c',
          msgId: 'M',
          brokerName,
        }),
        body,
      }),
      channel,
    );
    for (let i = 0; i < 50 && written.length === 0; i++) await new Promise((r) => setImmediate(r));
    assert.equal(written.length, 1);
    return written[0]!;
  }

  test("answers the push consumer's result for the message in the body", async () => {
    const res = await ask('PUSH', record('T'), 'broker-z');
    assert.equal(res.code, ResponseCode.SUCCESS);
    assert.equal(decodeConsumeMessageDirectlyResult(res.body).remark, 'hello@broker-z');
  });

  test('an unknown group, a consumer without a listener or a missing message answer SYSTEM_ERROR', async () => {
    const unknown = await ask('NOBODY', record('T'));
    assert.deepEqual(
      [unknown.code, unknown.remark],
      [ResponseCode.SYSTEM_ERROR, 'The Consumer Group <NOBODY> not exist in this consumer'],
    );
    const notPush = await ask('LITE', record('T'));
    assert.equal(notPush.code, ResponseCode.SYSTEM_ERROR);
    assert.match(notPush.remark!, /not a push consumer/);
    const empty = await ask('PUSH');
    assert.deepEqual([empty.code, empty.remark], [ResponseCode.SYSTEM_ERROR, 'no message in the body']);
  });
});
