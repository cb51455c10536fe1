import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderMarkdown } from '../../bench/results-table.js';

test('results table: CPU by thread gets a row per workload that has it', () => {
  const md = renderMarkdown({
    date: '2026-11-21',
    e2e: {
      A_msgs: 150_000,
      A_broker_cpu_s: 1.5,
      A_broker_cpu_loop_thread_s: 0.86,
      A_broker_cpu_writer_thread_s: 0.3,
      A_broker_cpu_node_threads_s: 0.38,
      A_client_cpu_loop_thread_s: 0.6,
      A_client_cpu_node_threads_s: 0.24,
      B_msgs: 200_000,
    },
  });
  const rows = md.split('\n').filter((l) => /^\| [A-D]2? \| [0-9.]+ \| /.test(l));
  assert.deepEqual(rows, ['| A | 0.86 | 0.3 | 0.38 | 0.6 | 0.24 |']);
});

test('results table: no CPU-by-thread table without the figures', () => {
  const md = renderMarkdown({ date: '2026-11-21', e2e: { A_msgs: 150_000 } });
  assert.ok(!md.includes('CPU seconds by thread'));
});
