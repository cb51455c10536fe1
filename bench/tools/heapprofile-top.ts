/**
 * Summarises a sampling heap profile (.heapprofile, e.g. bench:e2e --prof=dir --alloc): bytes
 * allocated per function (self) and per allocating stack (the function and its nearest callers),
 * heaviest first. With garbage included it answers "who feeds the young generation".
 *   node --import tsx bench/tools/heapprofile-top.ts <file.heapprofile> [--top 30] [--depth 3]
 */
import { readFileSync } from 'node:fs';

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}

const argv = process.argv.slice(2);
const file = argv.find((a) => !a.startsWith('--'));
if (!file) {
  process.stderr.write('usage: heapprofile-top <file.heapprofile> [--top N] [--depth N]\n');
  process.exit(2);
}
const opt = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const top = Number(opt('top') ?? 30);
const depth = Number(opt('depth') ?? 3);
const { head } = JSON.parse(readFileSync(file, 'utf8')) as { head: HeapNode };

const short = (url: string): string => url.replace(/^file:\/\/.*?\/(src|bench|node_modules)\//, '$1/');
const label = (n: HeapNode): string =>
  `${n.callFrame.functionName || '(anonymous)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;

const self = new Map<string, number>();
const stacks = new Map<string, number>();
let all = 0;
const walk = (n: HeapNode, path: string[]): void => {
  const p = [...path, label(n)];
  if (n.selfSize > 0) {
    all += n.selfSize;
    self.set(p[p.length - 1]!, (self.get(p[p.length - 1]!) ?? 0) + n.selfSize);
    const k = p.slice(-depth).reverse().join(' < ');
    stacks.set(k, (stacks.get(k) ?? 0) + n.selfSize);
  }
  for (const c of n.children) walk(c, p);
};
walk(head, []);
const print = (title: string, m: Map<string, number>): void => {
  process.stdout.write(`\n${title}\n`);
  for (const [k, b] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top))
    process.stdout.write(
      `${((100 * b) / all).toFixed(1).padStart(6)}% ${(b / 1048576).toFixed(1).padStart(8)} MiB  ${k}\n`,
    );
};
process.stdout.write(`${file}: ${(all / 1048576).toFixed(1)} MiB sampled\n`);
print('allocated by function', self);
print(`allocated by stack (${depth} frames)`, stacks);
