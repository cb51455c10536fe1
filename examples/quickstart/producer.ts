/**
 * Quickstart producer (upstream's org.apache.rocketmq.example.quickstart.Producer): sends 1000
 * messages "Hello RocketMQ <i>" with tag TagA to TopicTest and prints each SendResult.
 *
 *   NAMESRV_ADDR=127.0.0.1:9876 node --import tsx examples/quickstart/producer.ts
 *   NAMESRV_ADDR=127.0.0.1:9876 node dist/examples/quickstart/producer.js   # after npm run build
 *
 * In your own project import from 'rocketmq-ts' instead of '../../src/index.js'.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Message, Producer } from '../../src/index.js';

const producer = new Producer({
  producerGroup: 'please_rename_unique_group_name',
  namesrvAddr: process.env.NAMESRV_ADDR ?? '127.0.0.1:9876',
});
await producer.start();

for (let i = 0; i < 1000; i++) {
  try {
    const msg = new Message('TopicTest', `Hello RocketMQ ${i}`, { tags: 'TagA' });
    const sendResult = await producer.send(msg);
    console.log(sendResult.toString());
  } catch (err) {
    console.error(err);
    await sleep(1000);
  }
}

await producer.shutdown();
