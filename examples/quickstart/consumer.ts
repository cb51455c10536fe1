/**
 * Quickstart consumer (upstream's org.apache.rocketmq.example.quickstart.Consumer): subscribes to
 * every message of TopicTest in group please_rename_unique_group_name_4, from the first offset,
 * and prints each delivery. Runs until Ctrl-C (or SIGTERM), then commits its offsets and leaves
 * the group.
 *
 *   NAMESRV_ADDR=127.0.0.1:9876 node --import tsx examples/quickstart/consumer.ts
 *   NAMESRV_ADDR=127.0.0.1:9876 node dist/examples/quickstart/consumer.js   # after npm run build
 *
 * In your own project import from 'rocketmq-ts' instead of '../../src/index.js'.
 */
import { ConsumeConcurrentlyStatus, PushConsumer } from '../../src/index.js';

const consumer = new PushConsumer({
  consumerGroup: 'please_rename_unique_group_name_4',
  namesrvAddr: process.env.NAMESRV_ADDR ?? '127.0.0.1:9876',
  consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
});

consumer.subscribe('TopicTest', '*');

consumer.registerMessageListener((msgs, context) => {
  // Java prints the consuming thread's name; here `slot` numbers the concurrent listener calls.
  console.log(`ConsumeMessageThread_${context.slot} Receive New Messages: [${msgs.join(', ')}] `);
  return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
});

await consumer.start();
console.log('Consumer Started.');

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  consumer.shutdown().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
