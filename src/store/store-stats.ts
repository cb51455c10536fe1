/**
 * Counters for GET_BROKER_RUNTIME_INFO (upstream StoreStatsService, reduced): totals and
 * per-second rates sampled over the last minute.
 */
import type { PutMessageResult } from './store-types.js';

export class StoreStats {
  readonly bootTimestamp = Date.now();
  putMessageTimesTotal = 0;
  putMessageSizeTotal = 0;
  putMessageFailedTimes = 0;
  getMessageTimesTotalFound = 0;
  getMessageTransferedMsgCount = 0;
  private samples: { t: number; puts: number; gets: number }[] = [];

  putOk(n: number, bytes: number): void {
    this.putMessageTimesTotal += n;
    this.putMessageSizeTotal += bytes;
  }

  putFailed(r: PutMessageResult): PutMessageResult {
    this.putMessageFailedTimes++;
    return r;
  }

  got(n: number): void {
    if (n > 0) this.getMessageTimesTotalFound++;
    this.getMessageTransferedMsgCount += n;
  }

  private sample(): void {
    const now = Date.now();
    const last = this.samples[this.samples.length - 1];
    if (!last || now - last.t >= 1000) {
      this.samples.push({ t: now, puts: this.putMessageTimesTotal, gets: this.getMessageTransferedMsgCount });
      while (this.samples.length > 61) this.samples.shift();
    }
  }

  private tps(field: 'puts' | 'gets'): string {
    this.sample();
    const first = this.samples[0]!;
    const last = this.samples[this.samples.length - 1]!;
    const secs = (last.t - first.t) / 1000;
    return secs > 0 ? ((last[field] - first[field]) / secs).toFixed(2) : '0.00';
  }

  runtimeInfo(): Record<string, string> {
    return {
      bootTimestamp: String(this.bootTimestamp),
      putMessageTimesTotal: String(this.putMessageTimesTotal),
      putMessageSizeTotal: String(this.putMessageSizeTotal),
      putMessageFailedTimes: String(this.putMessageFailedTimes),
      putTps: this.tps('puts'),
      getTransferedTps: this.tps('gets'),
      getFoundTimesTotal: String(this.getMessageTimesTotalFound),
    };
  }
}
