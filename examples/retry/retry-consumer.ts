/**
 * Retries and the dead-letter queue: sends two messages to TopicRetry; the consumer fails the
 * first delivery of "recovers" and every delivery of "always fails" (RECONSUME_LATER, or throw).
 * Each failure goes back to the broker (CONSUMER_SEND_MSG_BACK) and comes back through
 * %RETRY%<group> with reconsumeTimes + 1 — here after 1 s, because the listener asks for delay
 * level 1 (without it the broker waits 10 s, 30 s, 1 m, ... for retry 1, 2, 3, ...). After
 * maxReconsumeTimes (2 here, 16 by default) the message goes to %DLQ%<group>, read back at the end
 * with the Admin client. Exits when done.
 *
 *   NAMESRV_ADDR=127.0.0.1:9876 node --import tsx examples/retry/retry-consumer.ts
 *   NAMESRV_ADDR=127.0.0.1:9876 node dist/examples/retry/retry-consumer.js   # after npm run build
 *
 * In your own project import from 'rocketmq-ts' instead of '../../src/index.js'.
 */
import { Admin, ConsumeConcurrentlyStatus, Message, Producer, PushConsumer } from '../../src/index.js';

const namesrvAddr = process.env.NAMESRV_ADDR ?? '127.0.0.1:9876';
const topic = 'TopicRetry';
const group = 'ExampleRetryConsumer';

const producer = new Producer({ producerGroup: 'ExampleRetryProducer', namesrvAddr });
await producer.start();
const recovers = await producer.send(new Message(topic, 'recovers', { keys: 'retry-example' }));
const alwaysFails = await producer.send(new Message(topic, 'always fails', { keys: 'retry-example' }));
await producer.shutdown();

const consumer = new PushConsumer({
  consumerGroup: group,
  namesrvAddr,
  consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
  maxReconsumeTimes: 2,
});
consumer.subscribe(topic, '*');
let done = false;
consumer.registerMessageListener((msgs, context) => {
  const m = msgs[0]!;
  const body = m.body.toString();
  // A retried message shows its original topic and msgId; reconsumeTimes counts the retries.
  console.log(`Receive "${body}" topic=${m.topic} msgId=${m.msgId} reconsumeTimes=${m.reconsumeTimes}`);
  context.delayLevelWhenNextConsume = 1;
  if (body === 'recovers') {
    if (m.reconsumeTimes === 0) return ConsumeConcurrentlyStatus.RECONSUME_LATER;
    return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
  }
  if (m.reconsumeTimes === 2) done = true;
  throw new Error(`cannot handle "${body}"`);
});
await consumer.start();
console.log('Consumer Started.');

const admin = new Admin({ namesrvAddr });
await admin.start();
const dlq = `%DLQ%${group}`;
for (;;) {
  await new Promise((r) => setTimeout(r, 500));
  if (!done) continue;
  const dead = await admin.queryMessageByUniqKey(dlq, alwaysFails.msgId).catch(() => undefined);
  if (!dead) continue;
  console.log(`Dead letter in ${dlq}: "${dead.body.toString()}" reconsumeTimes=${dead.reconsumeTimes}`);
  break;
}
console.log(`"recovers" (${recovers.msgId}) was consumed on its second delivery.`);
await admin.shutdown();
await consumer.shutdown();
