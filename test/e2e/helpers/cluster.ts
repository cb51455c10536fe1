/**
 * An in-process cluster for client end-to-end tests: one NameServer and `brokers` brokers
 * (broker-a, broker-b, ...) on 127.0.0.1 with ephemeral ports and temp dirs, all stopped after
 * the suite; plus helpers that shut SDK clients down after the suite even when a test fails.
 */
import { after } from 'node:test';
import { startNamesrv } from '../../helpers/namesrv.js';
import { startBroker } from '../../helpers/broker.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { waitFor } from '../../helpers/wait.js';
import type { BrokerController } from '../../../src/broker/broker-controller.js';
import { Admin } from '../../../src/client/admin/admin.js';
import {
  ConsumeConcurrentlyStatus,
  PushConsumer,
  type MessageExt,
  type PushConsumerOptions,
} from '../../../src/index.js';

export interface TestCluster {
  namesrvAddr: string;
  brokers: { name: string; addr: string; broker: BrokerController; dir: string }[];
  admin: Admin;
  /** The brokers' extra properties. */
  props: Record<string, string>;
}

export async function startCluster(
  opts: { brokers?: number; props?: Record<string, string> } = {},
): Promise<TestCluster> {
  const ns = await startNamesrv();
  const brokers: TestCluster['brokers'] = [];
  for (let i = 0; i < (opts.brokers ?? 1); i++) {
    const name = `broker-${String.fromCharCode(97 + i)}`;
    const { broker, addr, dir } = await startBroker({
      namesrvAddr: ns.addr,
      props: { brokerName: name, ...opts.props },
    });
    brokers.push({ name, addr, broker, dir });
  }
  const admin = new Admin({ namesrvAddr: ns.addr, instanceName: 'test-admin' });
  await admin.start();
  after(() => admin.shutdown());
  return { namesrvAddr: ns.addr, brokers, admin, props: opts.props ?? {} };
}

/**
 * Stops broker `i` cleanly and starts it again on the same store and port, as an operator's
 * restart: clients reconnect to the same address.
 */
export async function restartBroker(c: TestCluster, i = 0): Promise<void> {
  const old = c.brokers[i]!;
  const port = old.broker.port;
  await old.broker.shutdown();
  const { broker, addr } = await startBroker({
    dir: old.dir,
    namesrvAddr: c.namesrvAddr,
    props: { brokerName: old.name, ...c.props, listenPort: String(port) },
  });
  c.brokers[i] = { ...old, broker, addr };
}

/** Broker properties for quick retries and delays: every delay level is 1 s. */
export const ONE_SECOND_LEVELS = { messageDelayLevel: Array(18).fill('1s').join(' ') };

/** Client options that notice a restarted broker within half a second (heartbeats, routes). */
export const FAST_CLIENT = { heartbeatBrokerInterval: 500, pollNameServerInterval: 500 } as const;

/** Shuts `client` down after the suite (a no-op if the test already did). */
export function track<T extends { shutdown(): Promise<void> }>(client: T): T {
  after(() => client.shutdown());
  return client;
}

/**
 * A started push consumer of `topic` (subscription `expr`, from the first offset) whose listener
 * collects every message it gets into `got`; shut down after the suite.
 */
export async function collectingConsumer(
  c: TestCluster,
  group: string,
  topic: string,
  opts: Partial<PushConsumerOptions> = {},
  expr = '*',
): Promise<{ consumer: PushConsumer; got: MessageExt[] }> {
  const got: MessageExt[] = [];
  const consumer = track(
    new PushConsumer({
      consumerGroup: group,
      namesrvAddr: c.namesrvAddr,
      consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
      ...opts,
    }),
  );
  consumer.subscribe(topic, expr);
  consumer.registerMessageListener((msgs) => {
    got.push(...msgs);
    return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
  });
  await consumer.start();
  return { consumer, got };
}

/** Creates a topic on every broker and waits until the NameServer routes it with all of them. */
export async function createTopic(c: TestCluster, topic: string, queues = 4): Promise<void> {
  await c.admin.createTopic(topic, { readQueueNums: queues, writeQueueNums: queues });
  await waitFor(
    () =>
      c.admin.examineTopicRoute(topic).then(
        (r) => r.queueDatas.length === c.brokers.length,
        () => false,
      ),
    `route of ${topic}`,
  );
}

/** A directory for broadcasting consumers' offset files. */
export function offsetDir(): string {
  return tempDir('rmq-offsets-');
}
