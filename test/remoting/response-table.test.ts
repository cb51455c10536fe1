import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ResponseTable, TimeoutQueue } from '../../src/remoting/response-table.js';
import type { RemotingCommand } from '../../src/remoting/remoting-command.js';
import { ErrorCode, RmqError } from '../../src/common/errors.js';

function response(opaque: number): RemotingCommand {
  return { code: 0, language: 'JAVA', version: 0, opaque, flag: 1, serializeType: 0 };
}

test('responses find their calls, also past the slot array (opaques 4096 apart in flight)', () => {
  const t = new ResponseTable();
  const got: number[] = [];
  const opaques = [1, 2, 4097, 8193, 3, 4098];
  for (const o of opaques)
    t.addCallback(o, 60_000, 1, 10, 'peer', (err, r) => got.push(err ? -o : r!.opaque));
  assert.equal(t.size, opaques.length);
  for (const o of [4097, 1, 8193, 4098, 3, 2]) assert.equal(t.complete(response(o)), true);
  assert.deepEqual(got, [4097, 1, 8193, 4098, 3, 2]);
  assert.equal(t.size, 0);
  assert.equal(t.complete(response(1)), false, 'a late answer finds nobody');
  t.failAll(() => new Error('closed'));
});

test('timeouts expire oldest first per timeout length, skipping calls already answered', async () => {
  const t = new ResponseTable();
  const log: string[] = [];
  const cb =
    (name: string) =>
    (err: Error | undefined): void => {
      log.push(
        `${name}:${err instanceof RmqError && err.code === ErrorCode.REMOTING_TIMEOUT ? 'timeout' : 'ok'}`,
      );
    };
  t.addCallback(1, 30, 1, 10, 'p', cb('a'));
  t.addCallback(2, 30, 1, 10, 'p', cb('b'));
  t.addCallback(3, 60_000, 1, 10, 'p', cb('long'));
  t.addCallback(4, 30, 1, 10, 'p', cb('c'));
  t.complete(response(2));
  await new Promise((r) => setTimeout(r, 120));
  assert.deepEqual(log, ['b:ok', 'a:timeout', 'c:timeout']);
  assert.equal(t.size, 1);
  t.failOwner(2, () => new Error('other owner'));
  assert.equal(t.size, 1, 'only the closed connection’s calls fail');
  t.failOwner(1, () => new Error('closed'));
  assert.equal(t.size, 0);
});

test('a call held long at the head while thousands pass behind it keeps the ring small', () => {
  const t = new ResponseTable();
  let held = 0;
  t.addCallback(0, 30_000, 1, 11, 'p', () => held++);
  let done = 0;
  for (let o = 1; o <= 100_000; o++) {
    t.addCallback(o, 30_000, 1, 11, 'p', () => done++);
    if (o > 8) t.complete(response(o - 8));
  }
  assert.equal(done, 100_000 - 8);
  assert.equal(t.size, 9);
  for (let o = 100_000 - 7; o <= 100_000; o++) assert.equal(t.complete(response(o)), true);
  assert.equal(t.complete(response(0)), true);
  assert.equal(held, 1);
  assert.equal(t.size, 0);
  t.failAll(() => new Error('closed'));
});

test('timeout queue: holes behind a waiting head are dropped when the ring fills', () => {
  const q = new TimeoutQueue(1000);
  const mk = (opaque: number) => ({
    opaque,
    deadline: 0,
    done: () => {},
    owner: 0,
    code: 0,
    peer: '',
    queue: q,
    pos: 0,
  });
  const head = mk(0);
  q.push(head);
  for (let o = 1; o <= 10_000; o++) {
    const p = mk(o);
    q.push(p);
    q.clear(p);
  }
  assert.ok(q.mask + 1 <= 64, `ring grew to ${q.mask + 1} slots for 1 waiting call`);
  assert.equal(q.first(), head);
  const many = Array.from({ length: 500 }, (_, k) => mk(20_000 + k));
  for (const p of many) q.push(p);
  assert.ok(q.mask + 1 >= 501, 'grows for calls that really wait');
  q.clear(head);
  assert.equal(q.first(), many[0]);
  q.clear(many[0]!);
  assert.equal(q.first(), many[1], 'order kept across the renumbering');
});

test('queues of timeout lengths nobody waits on any more are dropped by the next expiry pass', async () => {
  const t = new ResponseTable();
  // Retries pass what is left of their budget: many distinct lengths, answered at once.
  for (let o = 1; o <= 500; o++) {
    t.addCallback(o, 20 + o, 1, 10, 'p', () => {});
    t.complete(response(o));
  }
  let expired = false;
  t.addCallback(1000, 60_000, 1, 10, 'p', (err) => (expired = err !== undefined));
  assert.equal(t.timeoutQueues, 501);
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(t.timeoutQueues, 1, 'only the length with a call still waiting is left');
  assert.equal(expired, false);
  t.failAll(() => new Error('closed'));
});

test('property: any sequence of calls, answers and failures ends each call exactly once, as a Map would', () => {
  // Opaques drawn from a small range plus far-apart ones, so slots collide and the overflow map
  // is used; answers for unknown opaques are refused.
  const op = fc.oneof(
    fc.record({
      kind: fc.constant('add' as const),
      opaque: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 4090, max: 4200 })),
      owner: fc.integer({ min: 1, max: 3 }),
    }),
    fc.record({ kind: fc.constant('complete' as const), opaque: fc.integer({ min: 0, max: 4200 }) }),
    fc.record({ kind: fc.constant('fail' as const), opaque: fc.integer({ min: 0, max: 4200 }) }),
    fc.record({ kind: fc.constant('failOwner' as const), owner: fc.integer({ min: 1, max: 3 }) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
      const t = new ResponseTable();
      const model = new Map<number, number>(); // opaque -> owner, calls still waiting
      const ended = new Map<number, number>(); // call id -> times its callback ran
      let id = 0;
      for (const o of ops) {
        if (o.kind === 'add') {
          if (model.has(o.opaque)) continue; // opaques are unique among waiting calls
          const me = ++id;
          ended.set(me, 0);
          model.set(o.opaque, o.owner);
          t.addCallback(o.opaque, 60_000, o.owner, 10, 'p', () => ended.set(me, ended.get(me)! + 1));
        } else if (o.kind === 'complete') {
          assert.equal(t.complete(response(o.opaque)), model.delete(o.opaque));
        } else if (o.kind === 'fail') {
          model.delete(o.opaque);
          t.fail(o.opaque, new Error('x'));
        } else {
          for (const [k, owner] of [...model]) if (owner === o.owner) model.delete(k);
          t.failOwner(o.owner, () => new Error('closed'));
        }
        assert.equal(t.size, model.size);
      }
      t.failAll(() => new Error('closed'));
      for (const n of ended.values()) assert.equal(n, 1, 'every call ends exactly once');
    }),
    { numRuns: 300 },
  );
});
