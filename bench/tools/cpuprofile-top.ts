/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time per function and per file, and
 * inclusive ("total") time per function, heaviest first. A text stand-in for a flame graph when
 * comparing runs on the command line.
 *   node --import tsx bench/tools/cpuprofile-top.ts <file.cpuprofile> [--top 30] [--filter text]
 *     [--long-tasks]   also the longest stretches without an idle sample (what blocks the loop)
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const argv = process.argv.slice(2);
const file = argv.find((a) => !a.startsWith('--'));
if (!file) {
  process.stderr.write('usage: cpuprofile-top <file.cpuprofile> [--top N] [--filter text]\n');
  process.exit(2);
}
const opt = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const top = Number(opt('top') ?? 30);
const filter = opt('filter');
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;

// Time per sample: the delta that follows it (V8 records the gap before each sample).
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
for (let i = 0; i < p.samples.length; i++) {
  const dt = p.timeDeltas[i + 1] ?? 0;
  selfUs.set(p.samples[i]!, (selfUs.get(p.samples[i]!) ?? 0) + dt);
}
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const short = (url: string): string => url.replace(/^file:\/\/.*?\/(src|bench|node_modules)\//, '$1/');
const label = (n: Node): string =>
  `${n.callFrame.functionName || '(anonymous)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;

const self = new Map<string, number>();
const perFile = new Map<string, number>();
const total = new Map<string, number>();
let all = 0;
for (const [id, us] of selfUs) {
  const n = byId.get(id)!;
  all += us;
  self.set(label(n), (self.get(label(n)) ?? 0) + us);
  const f = short(n.callFrame.url) || `(${n.callFrame.functionName})`;
  perFile.set(f, (perFile.get(f) ?? 0) + us);
  // Inclusive time: count each distinct frame once per sample path.
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const l = label(byId.get(cur)!);
    if (seen.has(l)) continue;
    seen.add(l);
    total.set(l, (total.get(l) ?? 0) + us);
  }
}

function print(title: string, m: Map<string, number>): void {
  process.stdout.write(`\n${title}\n`);
  const rows = [...m].filter(([k]) => !filter || k.includes(filter)).sort((a, b) => b[1] - a[1]);
  for (const [k, us] of rows.slice(0, top)) {
    process.stdout.write(
      `${((100 * us) / all).toFixed(1).padStart(6)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}\n`,
    );
  }
}
process.stdout.write(`${file}: ${(all / 1e6).toFixed(2)} s sampled\n`);
print('self time by function', self);
print('self time by file', perFile);
print('total (inclusive) time by function', total);

/**
 * Long tasks: consecutive samples that are not (idle) form one task; for the longest, the
 * functions seen most often in their samples' stacks (below the event-loop entry points).
 */
if (argv.includes('--long-tasks')) {
  const idleIds = new Set(p.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  interface Task {
    startUs: number;
    us: number;
    samples: number[];
  }
  const tasks: Task[] = [];
  let cur: Task | undefined;
  let t = 0;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    const dt = p.timeDeltas[i + 1] ?? 0;
    if (idleIds.has(p.samples[i]!)) {
      cur = undefined;
      continue;
    }
    if (!cur) {
      cur = { startUs: t, us: 0, samples: [] };
      tasks.push(cur);
    }
    cur.us += dt;
    cur.samples.push(p.samples[i]!);
  }
  tasks.sort((a, b) => b.us - a.us);
  process.stdout.write(`\nlongest tasks (of ${tasks.length})\n`);
  for (const task of tasks.slice(0, Math.min(top, 15))) {
    const counts = new Map<string, number>();
    for (const id of task.samples) {
      const seen = new Set<string>();
      for (let c: number | undefined = id; c !== undefined; c = parent.get(c)) {
        const l = label(byId.get(c)!);
        if (seen.has(l)) continue;
        seen.add(l);
        counts.set(l, (counts.get(l) ?? 0) + 1);
      }
    }
    const leaf = label(byId.get(task.samples[task.samples.length >> 1]!)!);
    const frames = [...counts]
      .filter(([l]) => !l.startsWith('(root)') && !l.includes('node:internal'))
      .sort((a, b) => b[1] - a[1])
      .slice(0, 4)
      .map(([l, n]) => `${l} ${Math.round((100 * n) / task.samples.length)}%`);
    process.stdout.write(
      `${(task.us / 1000).toFixed(1).padStart(7)} ms at ${(task.startUs / 1e6).toFixed(2)} s: ${frames.join(' | ')} [mid: ${leaf}]\n`,
    );
  }
}
