import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getLogger } from '../../src/common/logger.js';
import { createRequest, type RemotingCommand } from '../../src/remoting/remoting-command.js';
import type { Channel } from '../../src/remoting/channel.js';
import { RequestCode } from '../../src/protocol/request-code.js';
import { CheckTransactionStateRequestHeader } from '../../src/protocol/broker-headers.js';
import { createClientDispatcher } from '../../src/client/client-remoting-processor.js';
import type {
  CheckTransactionStateRequest,
  MQClientInstance,
  ProducerInner,
} from '../../src/client/client-instance.js';
import type { MessageExt } from '../../src/client/message/message-ext.js';
import { storedRecord } from '../helpers/stored-record.js';

function halfMessage(props: Record<string, string>): Buffer {
  return storedRecord({ topic: 'RealTopic', body: 'pending', queueId: 1, queueOffset: 7, props });
}

describe('CHECK_TRANSACTION_STATE in the client', () => {
  test('goes to the transaction producer of the message group, with the half message decoded', () => {
    const calls: [string, MessageExt, CheckTransactionStateRequest][] = [];
    const producer: ProducerInner = {
      group: 'TPG',
      publishTopics: () => [],
      updateTopicPublishInfo: () => {},
      checkTransactionState: (addr, msg, header) => calls.push([addr, msg, header]),
    };
    const plain: ProducerInner = {
      group: 'PLAIN',
      publishTopics: () => [],
      updateTopicPublishInfo: () => {},
    };
    const instance = {
      log: getLogger('test.client-processor'),
      producer: (g: string) => ({ TPG: producer, PLAIN: plain })[g],
      findBrokerNameByAddr: (addr: string) => (addr === '127.0.0.1:10911' ? 'broker-a' : undefined),
    } as unknown as MQClientInstance;
    const written: RemotingCommand[] = [];
    const channel = {
      remoteAddress: '127.0.0.1:10911',
      write: (c: RemotingCommand) => written.push(c) > 0,
    } as unknown as Channel;
    const d = createClientDispatcher(instance);
    const check = (props: Record<string, string>) =>
      d.dispatch(
        createRequest(RequestCode.CHECK_TRANSACTION_STATE, {
          extFields: CheckTransactionStateRequestHeader.encode({
            tranStateTableOffset: 7,
            commitLogOffset: 4096,
            msgId: 'U1',
            transactionId: 'U1',
          }),
          body: halfMessage(props),
          oneway: true,
        }),
        channel,
      );
    check({ PGROUP: 'TPG', UNIQ_KEY: 'U1', TRAN_MSG: 'true', '__CRC32#': '1234567890' });
    check({ PGROUP: 'PLAIN', UNIQ_KEY: 'U2' }); // not a transaction producer: ignored
    check({ PGROUP: 'NOBODY', UNIQ_KEY: 'U3' }); // no such producer here: ignored
    assert.equal(calls.length, 1);
    const [addr, msg, header] = calls[0]!;
    assert.equal(addr, '127.0.0.1:10911', 'answered to the broker that asked');
    assert.equal(msg.topic, 'RealTopic');
    assert.equal(msg.body.toString(), 'pending');
    assert.equal(msg.brokerName, 'broker-a');
    assert.equal(msg.transactionId, 'U1');
    assert.equal(msg.properties.has('__CRC32#'), false);
    assert.equal(msg.msgId, 'U1');
    assert.equal(header.tranStateTableOffset, 7);
    assert.equal(header.commitLogOffset, 4096);
    assert.deepEqual(written, [], 'oneway: no reply');
  });
});
