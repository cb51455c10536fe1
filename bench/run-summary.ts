/**
 * Figures of several runs of one benchmark as one set: each numeric figure is the median of the
 * runs (other work on this two-core machine moves single runs by 20% and more), and for the
 * figures `best` picks, `<figure>_best` is the best run. Peak-RSS figures are the largest of the
 * runs instead: a memory bound has to hold in every run. Text figures come from the last run.
 */
export interface SummaryOptions {
  /** Lower is better for this figure (latency, CPU, memory); higher for throughput. */
  lowerIsBetter: (key: string) => boolean;
  /** Figures that also get a `_best` entry (default: all numeric ones). */
  best?: (key: string) => boolean;
}

const isPeakRss = (k: string): boolean => k.includes('rss') && k.endsWith('_mib');

export function summarizeRuns(
  runs: readonly Record<string, unknown>[],
  o: SummaryOptions,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const keys = new Set(runs.flatMap((r) => Object.keys(r)));
  for (const k of keys) {
    const values = runs.map((r) => r[k]);
    const nums = values.filter((v): v is number => typeof v === 'number').sort((a, b) => a - b);
    if (nums.length === 0) {
      out[k] = values.filter((v) => v !== undefined).at(-1);
      continue;
    }
    if (isPeakRss(k)) {
      out[k] = nums[nums.length - 1];
      continue;
    }
    out[k] = nums[Math.floor((nums.length - 1) / 2)];
    if (runs.length > 1 && (o.best?.(k) ?? true))
      out[`${k}_best`] = o.lowerIsBetter(k) ? nums[0] : nums[nums.length - 1];
  }
  out.runs = runs.length;
  return out;
}
