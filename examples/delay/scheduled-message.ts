/**
 * Delayed (scheduled) messages (upstream's org.apache.rocketmq.example.schedule): sends 10
 * messages to TopicDelay with delay level 2 (5 s with the broker's default levels
 * "1s 5s 10s 30s 1m ..."), then consumes them and prints how long after sending each arrived.
 * Exits once all 10 have arrived.
 *
 *   NAMESRV_ADDR=127.0.0.1:9876 node --import tsx examples/delay/scheduled-message.ts
 *   NAMESRV_ADDR=127.0.0.1:9876 node dist/examples/delay/scheduled-message.js   # after npm run build
 *
 * DELAY_LEVEL=3 picks another level. In your own project import from 'rocketmq-ts' instead of
 * '../../src/index.js'.
 */
import { ConsumeConcurrentlyStatus, Message, Producer, PushConsumer } from '../../src/index.js';

const namesrvAddr = process.env.NAMESRV_ADDR ?? '127.0.0.1:9876';
const delayTimeLevel = Number(process.env.DELAY_LEVEL ?? 2);
const topic = 'TopicDelay';
const total = 10;

const producer = new Producer({ producerGroup: 'ExampleDelayProducer', namesrvAddr });
await producer.start();
for (let i = 0; i < total; i++) {
  // The broker parks the message in SCHEDULE_TOPIC_XXXX until its level has passed.
  const msg = new Message(topic, `Hello scheduled message ${i}`, { tags: 'TagA', delayTimeLevel });
  const r = await producer.send(msg);
  console.log(`Sent ${r.msgId} with delay level ${delayTimeLevel}`);
}
await producer.shutdown();

const consumer = new PushConsumer({
  consumerGroup: 'ExampleDelayConsumer',
  namesrvAddr,
  consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
});
consumer.subscribe(topic, '*');
const received = new Set<string>();
consumer.registerMessageListener((msgs) => {
  for (const m of msgs) {
    received.add(m.msgId);
    console.log(`Receive message[msgId=${m.msgId}] ${Date.now() - m.bornTimestamp}ms later`);
  }
  return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
});
await consumer.start();
console.log('Consumer Started.');

const timer = setInterval(() => {
  if (received.size < total) return;
  clearInterval(timer);
  consumer.shutdown().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}, 100);
