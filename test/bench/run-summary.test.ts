import { test } from 'node:test';
import assert from 'node:assert/strict';
import { summarizeRuns } from '../../bench/run-summary.js';

test('run summary: medians, best runs where asked, the largest peak RSS, text from the last run', () => {
  const runs = [
    { A_msgs: 100, C_p99_ms: 3, A_broker_peak_rss_mib: 150, runtime: 'compiled', only_first: 1 },
    { A_msgs: 300, C_p99_ms: 1, A_broker_peak_rss_mib: 190, runtime: 'tsx' },
    { A_msgs: 200, C_p99_ms: 2, A_broker_peak_rss_mib: 170, runtime: 'tsx' },
  ];
  const s = summarizeRuns(runs, {
    lowerIsBetter: (k) => k.endsWith('_ms'),
    best: (k) => k === 'A_msgs' || k === 'C_p99_ms',
  });
  assert.equal(s.A_msgs, 200);
  assert.equal(s.A_msgs_best, 300);
  assert.equal(s.C_p99_ms, 2);
  assert.equal(s.C_p99_ms_best, 1);
  assert.equal(s.A_broker_peak_rss_mib, 190, 'a memory bound holds in every run');
  assert.equal('A_broker_peak_rss_mib_best' in s, false);
  assert.equal(s.only_first, 1, 'a figure of one run only is that run');
  assert.equal('only_first_best' in s, false, 'not asked for');
  assert.equal(s.runtime, 'tsx');
  assert.equal(s.runs, 3);
  assert.deepEqual(summarizeRuns([{ x: 5 }], { lowerIsBetter: () => false }), { x: 5, runs: 1 });
});
