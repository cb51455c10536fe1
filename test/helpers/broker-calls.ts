/** Raw broker calls for broker tests, through the remoting client (no SDK involved). */
import { after } from 'node:test';
import { getLogger } from '../../src/common/logger.js';
import { RemotingClient } from '../../src/remoting/remoting-client.js';
import type { RequestDispatcher } from '../../src/remoting/dispatcher.js';
import {
  createRequest,
  type RemotingCommand,
  type SerializeTypeValue,
} from '../../src/remoting/remoting-command.js';
import { RequestCode } from '../../src/protocol/request-code.js';
import {
  CreateTopicRequestHeader,
  PullMessageRequestHeader,
  SendMessageRequestHeader,
  SendMessageRequestHeaderV2,
} from '../../src/protocol/broker-headers.js';
import {
  encodeHeartbeatData,
  buildSubscriptionData,
  type MessageModel,
} from '../../src/protocol/heartbeat.js';
import { encodeProperties } from '../../src/common/message/message-properties.js';

export function testClient(dispatcher?: RequestDispatcher): RemotingClient {
  const c = new RemotingClient({ log: getLogger('test.client'), dispatcher });
  after(() => c.close());
  return c;
}

export interface SendSpec {
  topic: string;
  body: Buffer | string;
  queueId?: number;
  tags?: string;
  keys?: string;
  props?: Record<string, string>;
  v1?: boolean;
  serializeType?: SerializeTypeValue;
  defaultTopicQueueNums?: number;
  reconsumeTimes?: number;
  maxReconsumeTimes?: number;
  sysFlag?: number;
  oneway?: boolean;
}

export function sendRequest(s: SendSpec): RemotingCommand {
  const props = new Map<string, string>();
  if (s.tags !== undefined) props.set('TAGS', s.tags);
  if (s.keys !== undefined) props.set('KEYS', s.keys);
  props.set('WAIT', 'true');
  for (const [k, v] of Object.entries(s.props ?? {})) props.set(k, v);
  const header = {
    producerGroup: 'PG',
    topic: s.topic,
    defaultTopic: 'TBW102',
    defaultTopicQueueNums: s.defaultTopicQueueNums ?? 4,
    queueId: s.queueId ?? 0,
    sysFlag: s.sysFlag ?? 0,
    bornTimestamp: Date.now(),
    flag: 0,
    properties: encodeProperties(props),
    reconsumeTimes: s.reconsumeTimes,
    maxReconsumeTimes: s.maxReconsumeTimes,
  };
  return createRequest(s.v1 ? RequestCode.SEND_MESSAGE : RequestCode.SEND_MESSAGE_V2, {
    extFields: s.v1 ? SendMessageRequestHeader.encode(header) : SendMessageRequestHeaderV2.encode(header),
    body: typeof s.body === 'string' ? Buffer.from(s.body) : s.body,
    serializeType: s.serializeType,
    oneway: s.oneway,
  });
}

export function send(c: RemotingClient, addr: string, s: SendSpec): Promise<RemotingCommand> {
  return c.invoke(addr, sendRequest(s));
}

export interface PullSpec {
  topic: string;
  group?: string;
  queueId?: number;
  offset?: number;
  max?: number;
  subscription?: string;
  suspendMs?: number;
  commitOffset?: number;
  /** Leave out the SUBSCRIPTION bit: the broker uses the group's heartbeat subscription. */
  noSubscription?: boolean;
}

export function pull(
  c: RemotingClient,
  addr: string,
  p: PullSpec,
  timeoutMs = 10_000,
): Promise<RemotingCommand> {
  let sysFlag = 0;
  if (p.suspendMs !== undefined) sysFlag |= 0x2;
  if (!p.noSubscription) sysFlag |= 0x4;
  if (p.commitOffset !== undefined) sysFlag |= 0x1;
  return c.invoke(
    addr,
    createRequest(RequestCode.PULL_MESSAGE, {
      extFields: PullMessageRequestHeader.encode({
        consumerGroup: p.group ?? 'CG',
        topic: p.topic,
        queueId: p.queueId ?? 0,
        queueOffset: p.offset ?? 0,
        maxMsgNums: p.max ?? 32,
        sysFlag,
        commitOffset: p.commitOffset ?? 0,
        suspendTimeoutMillis: p.suspendMs ?? 0,
        subscription: p.subscription ?? '*',
        subVersion: 0,
      }),
    }),
    timeoutMs,
  );
}

export function createTopic(
  c: RemotingClient,
  addr: string,
  topic: string,
  queues = 4,
  perm = 6,
  order = false,
): Promise<RemotingCommand> {
  return c.invoke(
    addr,
    createRequest(RequestCode.UPDATE_AND_CREATE_TOPIC, {
      extFields: CreateTopicRequestHeader.encode({
        topic,
        defaultTopic: 'TBW102',
        readQueueNums: queues,
        writeQueueNums: queues,
        perm,
        topicFilterType: 'SINGLE_TAG',
        order,
      }),
    }),
  );
}

export function heartbeat(
  c: RemotingClient,
  addr: string,
  clientID: string,
  group: string,
  topics: Record<string, string>,
  messageModel: MessageModel = 'CLUSTERING',
  producerGroups: string[] = [],
): Promise<RemotingCommand> {
  return c.invoke(
    addr,
    createRequest(RequestCode.HEART_BEAT, {
      body: encodeHeartbeatData({
        clientID,
        producerDataSet: producerGroups.map((groupName) => ({ groupName })),
        consumerDataSet: group
          ? [
              {
                groupName: group,
                consumeType: 'CONSUME_PASSIVELY',
                messageModel,
                consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
                unitMode: false,
                subscriptionDataSet: Object.entries(topics).map(([t, sub]) =>
                  buildSubscriptionData(t, sub, 'TAG', 1),
                ),
              },
            ]
          : [],
      }),
    }),
  );
}
