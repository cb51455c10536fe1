/**
 * Ordered messages (upstream's org.apache.rocketmq.example.ordermessage): every step of an order
 * (create, pay, ship, done) goes to the queue chosen by the order id, so one queue holds each
 * order's steps in sequence; an orderly listener then gets each queue's messages one batch at a
 * time, in queue order, while this consumer holds the queue's lock on the broker. Prints every
 * step as consumed and exits once all arrived.
 *
 *   NAMESRV_ADDR=127.0.0.1:9876 node --import tsx examples/ordered/ordered-messages.ts
 *   NAMESRV_ADDR=127.0.0.1:9876 node dist/examples/ordered/ordered-messages.js   # after npm run build
 *
 * In your own project import from 'rocketmq-ts' instead of '../../src/index.js'.
 */
import {
  ConsumeOrderlyStatus,
  Message,
  Producer,
  PushConsumer,
  selectMessageQueueByHash,
} from '../../src/index.js';

const namesrvAddr = process.env.NAMESRV_ADDR ?? '127.0.0.1:9876';
const topic = 'TopicOrdered';
const steps = ['create', 'pay', 'ship', 'done'];
const orders = [1001, 1002, 1003, 1004, 1005];

const producer = new Producer({ producerGroup: 'ExampleOrderedProducer', namesrvAddr });
await producer.start();
for (const step of steps) {
  for (const orderId of orders) {
    const msg = new Message(topic, `order ${orderId} ${step}`, { tags: step, keys: `order-${orderId}` });
    // The same order id always selects the same queue.
    const r = await producer.send(msg, selectMessageQueueByHash, orderId);
    console.log(`Sent order ${orderId} ${step} to queue ${r.messageQueue.queueId}`);
  }
}
await producer.shutdown();

const consumer = new PushConsumer({
  consumerGroup: 'ExampleOrderedConsumer',
  namesrvAddr,
  consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
});
consumer.subscribe(topic, '*');
let consumed = 0;
consumer.registerMessageListenerOrderly((msgs, context) => {
  for (const m of msgs) {
    consumed++;
    console.log(`Consume queue ${context.messageQueue.queueId}: ${m.body.toString()}`);
  }
  return ConsumeOrderlyStatus.SUCCESS;
});
await consumer.start();
console.log('Consumer Started.');

const timer = setInterval(() => {
  if (consumed < steps.length * orders.length) return;
  clearInterval(timer);
  consumer.shutdown().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}, 100);
