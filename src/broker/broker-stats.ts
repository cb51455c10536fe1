/**
 * Counters for GET_BROKER_RUNTIME_INFO and GET_CONSUME_STATS: messages got in total and per
 * consumer group and topic, with a TPS over the last sampling window (sampled every 10 s).
 */
interface Counter {
  count: number;
  windowStartCount: number;
  windowStartTime: number;
  tps: number;
}

export class BrokerStats {
  private readonly byGroupTopic = new Map<string, Counter>();
  getTotal = 0;
  getBytes = 0;
  readonly bootTimestamp = Date.now();

  pulled(group: string, topic: string, messages: number, bytes: number): void {
    this.getTotal += messages;
    this.getBytes += bytes;
    const key = `${topic}@${group}`;
    let c = this.byGroupTopic.get(key);
    if (!c) {
      c = { count: 0, windowStartCount: 0, windowStartTime: Date.now(), tps: 0 };
      this.byGroupTopic.set(key, c);
    }
    c.count += messages;
  }

  consumeTps(group: string, topic: string): number {
    return this.byGroupTopic.get(`${topic}@${group}`)?.tps ?? 0;
  }

  /** Closes the current window of every counter (called every 10 s). */
  sample(now = Date.now()): void {
    for (const c of this.byGroupTopic.values()) {
      const seconds = (now - c.windowStartTime) / 1000;
      if (seconds <= 0) continue;
      c.tps = (c.count - c.windowStartCount) / seconds;
      c.windowStartCount = c.count;
      c.windowStartTime = now;
    }
  }
}
