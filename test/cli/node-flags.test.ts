import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BROKER_NODE_FLAGS } from '../../src/cli/node-flags.js';

const root = new URL('../..', import.meta.url).pathname;

test('every command line that runs a broker carries the broker V8 flags', () => {
  for (const bin of ['mqbroker', 'rocketmq-ts']) {
    const shebang = readFileSync(join(root, 'bin', `${bin}.mjs`), 'utf8').split('\n')[0]!;
    assert.equal(shebang, `#!/usr/bin/env -S node ${BROKER_NODE_FLAGS.join(' ')}`, `bin/${bin}.mjs`);
  }
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  assert.equal(pkg.scripts.start, `node ${BROKER_NODE_FLAGS.join(' ')} bin/rocketmq-ts.mjs standalone`);
  const suite = readFileSync(join(root, 'bench', 'e2e', 'suite.ts'), 'utf8');
  assert.match(suite, /\.\.\.BROKER_NODE_FLAGS, \.\.\.brokerNodeArgs/);
});

test('this Node accepts the broker V8 flags (an unknown or refused flag would stop the broker)', () => {
  const r = spawnSync(process.execPath, [...BROKER_NODE_FLAGS, '-e', 'process.exit(0)'], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
});
