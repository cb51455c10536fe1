import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers/store-helper.js';

const child = fileURLToPath(new URL('./helpers/store-child.ts', import.meta.url));

function start(cfg: object): { proc: ChildProcess; first: Promise<string>; exited: Promise<number | null> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, JSON.stringify(cfg), 'hold'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ROCKETMQ_LOG_LEVEL: 'error' },
  });
  const rl = createInterface({ input: proc.stdout! });
  const first = new Promise<string>((resolve) => rl.once('line', resolve));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { proc, first, exited };
}

test('two processes can never open one store; a killed owner does not block the next', async () => {
  const cfg = {
    storePathRootDir: tempDir(),
    mappedFileSizeCommitLog: 65536,
    maxHashSlotNum: 100,
    maxIndexNum: 400,
  };
  const a = start(cfg);
  assert.equal(await a.first, 'ready');
  const b = start(cfg);
  assert.equal(await b.first, 'error RMQ_STORE_LOCKED');
  assert.equal(await b.exited, 3);
  a.proc.kill('SIGKILL');
  await a.exited;
  const c = start(cfg);
  assert.equal(await c.first, 'ready');
  c.proc.kill('SIGKILL');
  await c.exited;
});
