import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getLogger } from '../../src/common/logger.js';
import { RequestDispatcher } from '../../src/remoting/dispatcher.js';
import { createRequest, type RemotingCommand } from '../../src/remoting/remoting-command.js';
import { RequestCode } from '../../src/protocol/request-code.js';
import { ResponseCode } from '../../src/protocol/response-code.js';
import {
  ConsumerGroupRequestHeader,
  QueryConsumerOffsetRequestHeader,
  UnregisterClientRequestHeader,
  UpdateConsumerOffsetRequestHeader,
} from '../../src/protocol/broker-headers.js';
import { decodeConsumerIdList } from '../../src/protocol/admin-bodies.js';
import { startBroker } from '../helpers/broker.js';
import { createTopic, heartbeat, send, testClient } from '../helpers/broker-calls.js';
import { waitFor } from '../helpers/wait.js';
import type { RemotingClient } from '../../src/remoting/remoting-client.js';

function consumerList(c: RemotingClient, addr: string, group: string): Promise<RemotingCommand> {
  return c.invoke(
    addr,
    createRequest(RequestCode.GET_CONSUMER_LIST_BY_GROUP, {
      extFields: ConsumerGroupRequestHeader.encode({ consumerGroup: group }),
    }),
  );
}

function queryOffset(
  c: RemotingClient,
  addr: string,
  group: string,
  topic: string,
  queueId: number,
): Promise<RemotingCommand> {
  return c.invoke(
    addr,
    createRequest(RequestCode.QUERY_CONSUMER_OFFSET, {
      extFields: QueryConsumerOffsetRequestHeader.encode({ consumerGroup: group, topic, queueId }),
    }),
  );
}

function updateOffset(
  c: RemotingClient,
  addr: string,
  group: string,
  topic: string,
  queueId: number,
  commitOffset: number,
  oneway = false,
) {
  const req = createRequest(RequestCode.UPDATE_CONSUMER_OFFSET, {
    extFields: UpdateConsumerOffsetRequestHeader.encode({
      consumerGroup: group,
      topic,
      queueId,
      commitOffset,
    }),
    oneway,
  });
  return oneway ? c.invokeOneway(addr, req) : c.invoke(addr, req);
}

describe('heartbeats, membership and notifications', async () => {
  const { addr, broker } = await startBroker();

  test('HEART_BEAT registers groups, creates the retry topic; members get NOTIFY_CONSUMER_IDS_CHANGED', async () => {
    const notified: string[] = [];
    const d1 = new RequestDispatcher(getLogger('test')).register(
      RequestCode.NOTIFY_CONSUMER_IDS_CHANGED,
      (req) => {
        notified.push(`c1:${req.extFields?.consumerGroup}`);
        return null;
      },
    );
    const c1 = testClient(d1);
    const c2 = testClient();
    assert.equal(
      (await heartbeat(c1, addr, '10.0.0.1@1', 'G', { TopicX: 'TagA || TagB' }, 'CLUSTERING', ['PG1'])).code,
      ResponseCode.SUCCESS,
    );
    assert.ok(broker.topics.has('%RETRY%G'), 'retry topic created');
    assert.ok(broker.groups.get('G'), 'group auto-created');
    const sub = broker.consumers.get('G')!.subscriptions.get('TopicX')!;
    assert.deepEqual(sub.tagsSet, ['TagA', 'TagB']);
    assert.deepEqual(
      broker.producers.connections('PG1').map((p) => p.clientId),
      ['10.0.0.1@1'],
    );

    await heartbeat(c2, addr, '10.0.0.2@2', 'G', { TopicX: 'TagA || TagB' });
    await waitFor(() => notified.includes('c1:G'), 'notification to the first member');
    const list = decodeConsumerIdList((await consumerList(c1, addr, 'G')).body);
    assert.deepEqual(list.sort(), ['10.0.0.1@1', '10.0.0.2@2']);

    notified.length = 0;
    const unreg = await c2.invoke(
      addr,
      createRequest(RequestCode.UNREGISTER_CLIENT, {
        extFields: UnregisterClientRequestHeader.encode({ clientID: '10.0.0.2@2', consumerGroup: 'G' }),
      }),
    );
    assert.equal(unreg.code, ResponseCode.SUCCESS);
    await waitFor(() => notified.length > 0, 'notification after unregister');
    assert.deepEqual(decodeConsumerIdList((await consumerList(c1, addr, 'G')).body), ['10.0.0.1@1']);
  });

  test('a closed connection leaves its groups; an empty group has no consumers', async () => {
    const c = testClient();
    await heartbeat(c, addr, '10.0.0.9@9', 'Lonely', { TopicY: '*' });
    assert.equal((await consumerList(c, addr, 'Lonely')).code, ResponseCode.SUCCESS);
    c.close();
    await waitFor(() => !broker.consumers.get('Lonely'), 'group removed');
    const other = testClient();
    const res = await consumerList(other, addr, 'Lonely');
    assert.equal(res.code, ResponseCode.SYSTEM_ERROR);
    assert.equal(res.remark, 'no consumer for this group, Lonely');
  });

  test('a silent connection is dropped by the housekeeping scan', async () => {
    const { addr: addr2, broker: b2 } = await startBroker({
      controller: { housekeepingIntervalMs: 50, channelExpiredMs: 200 },
    });
    const c = testClient();
    await heartbeat(c, addr2, '10.0.0.3@3', 'Quiet', { T: '*' });
    assert.ok(b2.consumers.get('Quiet'));
    await waitFor(() => !b2.consumers.get('Quiet'), 'expiry of the silent consumer');
  });
});

describe('consumer offsets', () => {
  test('UPDATE (oneway or not) and QUERY, and they survive a broker restart', async () => {
    const first = await startBroker();
    const c = testClient();
    await createTopic(c, first.addr, 'OffT', 2);
    await send(c, first.addr, { topic: 'OffT', body: 'x' });
    assert.equal((await updateOffset(c, first.addr, 'OG', 'OffT', 0, 42)) !== undefined, true);
    await updateOffset(c, first.addr, 'OG', 'OffT', 1, 7, true);
    await waitFor(() => first.broker.offsets.query('OG', 'OffT', 1) === 7, 'oneway commit');
    const q = await queryOffset(c, first.addr, 'OG', 'OffT', 0);
    assert.equal(q.extFields?.offset, '42');
    await first.broker.shutdown();

    const second = await startBroker({ dir: first.dir });
    const c2 = testClient();
    assert.equal((await queryOffset(c2, second.addr, 'OG', 'OffT', 0)).extFields?.offset, '42');
    assert.equal((await queryOffset(c2, second.addr, 'OG', 'OffT', 1)).extFields?.offset, '7');
  });

  test('a group with no committed offset on a young queue is told 0; -1 commits count as none', async () => {
    const { addr } = await startBroker();
    const c = testClient();
    await createTopic(c, addr, 'Young', 1);
    await send(c, addr, { topic: 'Young', body: 'x' });
    assert.equal((await queryOffset(c, addr, 'NewGroup', 'Young', 0)).extFields?.offset, '0');
    await updateOffset(c, addr, 'Neg', 'Young', 0, -1);
    const neg = await queryOffset(c, addr, 'Neg', 'Young', 0);
    assert.equal(neg.code, ResponseCode.SUCCESS);
    assert.equal(neg.extFields?.offset, '0');
  });
});
