/**
 * The client instance's own producer, group CLIENT_INNER_PRODUCER (upstream's MQClientInstance
 * keeps one): push consumers send retry copies through it when CONSUMER_SEND_MSG_BACK fails.
 * One per client instance, started on first use. It does not hold the instance open: the
 * instance unregisters it when its last producer, consumer or admin leaves.
 */
import { SystemGroup } from '../../common/message/message-const.js';
import type { MQClientInstance } from '../client-instance.js';
import { Producer } from './producer.js';

class InnerProducer extends Producer {
  constructor(private readonly owner: MQClientInstance) {
    const c = owner.config;
    super({
      producerGroup: SystemGroup.CLIENT_INNER_PRODUCER,
      namesrvAddr: c.namesrvAddrs.join(';'),
      instanceName: c.instanceName,
      clientIP: c.clientIP,
      unitName: c.unitName,
    });
  }

  protected override acquireClientInstance(): MQClientInstance {
    return this.owner;
  }
}

const producers = new WeakMap<MQClientInstance, Promise<Producer>>();

/** The inner producer of `instance`, started on first use (a failed start is retried next time). */
export function innerProducerOf(instance: MQClientInstance): Promise<Producer> {
  let p = producers.get(instance);
  if (!p) {
    const producer = new InnerProducer(instance);
    p = producer.start().then(() => producer);
    producers.set(instance, p);
    p.catch(() => {
      if (producers.get(instance) === p) producers.delete(instance);
    });
  }
  return p;
}
