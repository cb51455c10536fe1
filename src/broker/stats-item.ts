/**
 * One windowed counter of upstream's BrokerStatsManager (a StatsItem): a running value (messages
 * or bytes) and the number of increments, with snapshots taken every 10 s, 10 min and 1 h so
 * VIEW_BROKER_STATS_DATA can answer the sum, TPS and average per increment over the last minute,
 * hour and day.
 *
 * Increments only add to two numbers (no allocation on the hot path); snapshots are taken by the
 * broker's 10 s sampling task. A window's result runs from its oldest snapshot to the live value
 * now, so a count is visible at once rather than after the next 10 s sample as upstream.
 */

interface Snapshot {
  at: number;
  times: number;
  value: number;
}

export interface StatsWindowData {
  sum: number;
  tps: number;
  avgpt: number;
}

const SECOND = 1000;
const MINUTE_STEP = 10 * SECOND;
const HOUR_STEP = 10 * 60 * SECOND;
const DAY_STEP = 60 * 60 * SECOND;

/** Snapshots each window keeps, as upstream: 6 steps of 10 s, 6 of 10 min, 24 of 1 h. */
const MINUTE_KEEP = 7;
const HOUR_KEEP = 7;
const DAY_KEEP = 25;

export class StatsItem {
  value = 0;
  times = 0;
  // Each window starts from a zero snapshot one step before creation, as upstream's first sample
  // does: what was counted since creation belongs to every window.
  private readonly minute: Snapshot[];
  private readonly hour: Snapshot[];
  private readonly day: Snapshot[];

  constructor(now = Date.now()) {
    this.minute = [{ at: now - MINUTE_STEP, times: 0, value: 0 }];
    this.hour = [{ at: now - HOUR_STEP, times: 0, value: 0 }];
    this.day = [{ at: now - DAY_STEP, times: 0, value: 0 }];
  }

  add(value: number, times: number): void {
    this.value += value;
    this.times += times;
  }

  /** Called every 10 s: a minute snapshot each time, hour and day snapshots when due. */
  sample(now = Date.now()): void {
    push(this.minute, this.snap(now), MINUTE_KEEP);
    if (now - this.hour[this.hour.length - 1]!.at >= HOUR_STEP) push(this.hour, this.snap(now), HOUR_KEEP);
    if (now - this.day[this.day.length - 1]!.at >= DAY_STEP) push(this.day, this.snap(now), DAY_KEEP);
  }

  inMinute(now = Date.now()): StatsWindowData {
    return this.window(this.minute, now);
  }

  inHour(now = Date.now()): StatsWindowData {
    return this.window(this.hour, now);
  }

  inDay(now = Date.now()): StatsWindowData {
    return this.window(this.day, now);
  }

  private snap(now: number): Snapshot {
    return { at: now, times: this.times, value: this.value };
  }

  private window(snaps: Snapshot[], now: number): StatsWindowData {
    const first = snaps[0]!;
    const sum = this.value - first.value;
    const elapsed = now - first.at;
    const timesDiff = this.times - first.times;
    return {
      sum,
      tps: elapsed > 0 ? (sum * SECOND) / elapsed : 0,
      avgpt: timesDiff > 0 ? sum / timesDiff : 0,
    };
  }
}

function push(snaps: Snapshot[], s: Snapshot, keep: number): void {
  snaps.push(s);
  if (snaps.length > keep) snaps.shift();
}
