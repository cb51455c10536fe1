import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatsItem } from '../../src/broker/stats-item.js';
import { BrokerStats } from '../../src/broker/broker-stats.js';

const S = 1000;

test('a stats item counts into every window at once, then ages counts out of the minute', () => {
  const t0 = 1_700_000_000_000;
  const it = new StatsItem(t0);
  it.add(10, 2);
  // Created at t0: the windows start one step earlier, as upstream's first sample.
  assert.deepEqual(it.inMinute(t0), { sum: 10, tps: 1, avgpt: 5 });
  assert.equal(it.inHour(t0).sum, 10);
  assert.equal(it.inDay(t0).sum, 10);

  // Sampled every 10 s for two minutes with 30 more added at t0 + 15 s.
  for (let t = t0 + 10 * S; t <= t0 + 120 * S; t += 10 * S) {
    if (t === t0 + 20 * S) it.add(30, 1);
    it.sample(t);
  }
  const now = t0 + 120 * S;
  assert.deepEqual(it.inMinute(now), { sum: 0, tps: 0, avgpt: 0 }, 'nothing in the last minute');
  assert.equal(it.inHour(now).sum, 40);
  assert.equal(it.inDay(now).sum, 40);
  it.add(6, 3);
  assert.deepEqual(it.inMinute(now), { sum: 6, tps: 0.1, avgpt: 2 });
});

test('broker stats: names and keys as upstream, broker-wide items keyed by the cluster name', () => {
  const s = new BrokerStats();
  s.put('T', 2, 300);
  s.put('T', 1, 100);
  s.pulled('G', 'T', 3, 400);
  assert.equal(s.view('TOPIC_PUT_NUMS', 'T', 'C')!.statsMinute.sum, 3);
  assert.equal(s.view('TOPIC_PUT_NUMS', 'T', 'C')!.statsMinute.avgpt, 1.5);
  assert.equal(s.view('TOPIC_PUT_SIZE', 'T', 'C')!.statsHour.sum, 400);
  assert.equal(s.view('GROUP_GET_NUMS', 'T@G', 'C')!.statsDay.sum, 3);
  assert.equal(s.view('GROUP_GET_SIZE', 'T@G', 'C')!.statsDay.sum, 400);
  assert.equal(s.view('BROKER_PUT_NUMS', 'C', 'C')!.statsMinute.sum, 3);
  assert.equal(s.view('BROKER_GET_NUMS', 'C', 'C')!.statsMinute.sum, 3);
  assert.equal(s.view('BROKER_PUT_NUMS', 'T', 'C'), undefined);
  assert.equal(s.view('TOPIC_PUT_NUMS', 'Other', 'C'), undefined);
  assert.equal(s.view('toString', 'T', 'C'), undefined);
  assert.ok(s.consumeTps('G', 'T') > 0);
  assert.equal(s.getTotal, 3);
});
