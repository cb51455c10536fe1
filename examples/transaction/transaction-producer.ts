/**
 * Transactional messages (upstream's org.apache.rocketmq.example.transaction): three half
 * messages whose local transactions commit, roll back, and stay unknown. The committed one is
 * delivered at once, the rolled-back one never; for the unknown one the broker asks the producer
 * back (CHECK_TRANSACTION_STATE) once it is older than transactionTimeOut (6 s) at its next check
 * round (every transactionCheckInterval, 60 s by default), and checkLocalTransaction commits it.
 * Exits when both committed messages have arrived.
 *
 *   NAMESRV_ADDR=127.0.0.1:9876 node --import tsx examples/transaction/transaction-producer.ts
 *   NAMESRV_ADDR=127.0.0.1:9876 node dist/examples/transaction/transaction-producer.js   # after npm run build
 *
 * In your own project import from 'rocketmq-ts' instead of '../../src/index.js'.
 */
import {
  ConsumeConcurrentlyStatus,
  LocalTransactionState,
  Message,
  PushConsumer,
  TransactionProducer,
} from '../../src/index.js';

const namesrvAddr = process.env.NAMESRV_ADDR ?? '127.0.0.1:9876';
const topic = 'TopicTransaction';

/** The local transactions' outcomes, as a database would remember them. */
const localOutcome = new Map<string, LocalTransactionState>();

const producer = new TransactionProducer({
  producerGroup: 'ExampleTransactionProducer',
  namesrvAddr,
  // The broker asks about half messages left undecided.
  checkLocalTransaction: (msg) => {
    const state = localOutcome.get(msg.transactionId ?? '') ?? LocalTransactionState.COMMIT_MESSAGE;
    console.log(`Check back for "${msg.body.toString()}": ${state}`);
    return state;
  },
});
await producer.start();

for (const decision of [
  LocalTransactionState.COMMIT_MESSAGE,
  LocalTransactionState.ROLLBACK_MESSAGE,
  LocalTransactionState.UNKNOW,
]) {
  const msg = new Message(topic, `transaction that ends ${decision}`, { tags: 'TagTx' });
  const r = await producer.sendMessageInTransaction(
    msg,
    (half, arg: { decision: LocalTransactionState }) => {
      // The local transaction runs here, after the half message is stored.
      if (arg.decision !== LocalTransactionState.UNKNOW) localOutcome.set(half.transactionId!, arg.decision);
      return arg.decision;
    },
    { decision },
  );
  console.log(`Sent half message ${r.msgId}: ${r.sendStatus}, local transaction ${r.localTransactionState}`);
}

const consumer = new PushConsumer({
  consumerGroup: 'ExampleTransactionConsumer',
  namesrvAddr,
  consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
});
consumer.subscribe(topic, '*');
let committed = 0;
consumer.registerMessageListener((msgs) => {
  for (const m of msgs) {
    committed++;
    console.log(`Receive "${m.body.toString()}" msgId=${m.msgId}`);
  }
  return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
});
await consumer.start();
console.log("Consumer Started; the unknown transaction is decided at the broker's next check.");

const timer = setInterval(() => {
  if (committed < 2) return;
  clearInterval(timer);
  Promise.all([consumer.shutdown(), producer.shutdown()]).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}, 100);
