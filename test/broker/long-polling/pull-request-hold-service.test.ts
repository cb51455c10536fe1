import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PullRequestHoldService,
  type HeldPull,
} from '../../../src/broker/long-polling/pull-request-hold-service.js';
import type { Channel } from '../../../src/remoting/channel.js';
import type { RemotingCommand } from '../../../src/remoting/remoting-command.js';
import { getLogger } from '../../../src/common/logger.js';

function pull(from: number, opts: { closed?: boolean; deadline?: number; tags?: number[] } = {}): HeldPull {
  return {
    request: { opaque: from } as RemotingCommand,
    channel: { isClosed: opts.closed ?? false } as Channel,
    pullFromThisOffset: from,
    deadline: opts.deadline ?? Date.now() + 60_000,
    filter: { isMatchedByConsumeQueue: (code: number) => !opts.tags || opts.tags.includes(code) },
  };
}

test('arrivals wake the pulls they satisfy, keep the others in place, drop closed channels', () => {
  const woken: number[] = [];
  const svc = new PullRequestHoldService(
    1000,
    () => 0,
    (p) => woken.push(p.pullFromThisOffset),
    getLogger('test.hold'),
  );
  svc.suspend('T', 0, pull(5));
  svc.suspend('T', 0, pull(9));
  svc.suspend('T', 0, pull(6, { tags: [42] }));
  svc.suspend('T', 0, pull(1, { closed: true }));
  svc.suspend('T', 1, pull(0));
  assert.equal(svc.size, 5);
  svc.notifyMessageArriving('T', 0, 8, 7); // offsets up to 7 exist; tag code 7
  assert.deepEqual(woken, [5], 'only the pull behind the new message whose filter takes tag 7');
  assert.equal(svc.size, 3, 'the closed one is dropped, 9 and the tag-42 pull wait');
  svc.notifyMessageArriving('T', 0, 8, 42);
  assert.deepEqual(woken, [5, 6]);
  svc.notifyMessageArriving('T', 0, 20);
  assert.deepEqual(woken, [5, 6, 9]);
  assert.equal(svc.size, 1, 'queue 1 still waits');
  svc.wakeAll();
  assert.deepEqual(woken, [5, 6, 9, 0]);
  assert.equal(svc.size, 0);
});

test('a pull woken and parked again during the same arrival stays parked', () => {
  const woken: number[] = [];
  const svc: PullRequestHoldService = new PullRequestHoldService(
    1000,
    () => 0,
    (p) => {
      woken.push(p.pullFromThisOffset);
      // The re-run found nothing it wants yet: it parks again, into the list being woken.
      if (p.pullFromThisOffset === 3) svc.suspend('T', 0, pull(100));
    },
    getLogger('test.hold'),
  );
  svc.suspend('T', 0, pull(3));
  svc.suspend('T', 0, pull(4));
  svc.notifyMessageArriving('T', 0, 10);
  assert.deepEqual(woken, [3, 4]);
  assert.equal(svc.size, 1);
  svc.notifyMessageArriving('T', 0, 101);
  assert.deepEqual(woken, [3, 4, 100]);
  assert.equal(svc.size, 0);
});

test('a pull parking behind messages dispatched since its store read is answered at once', () => {
  const woken: number[] = [];
  let max = 0;
  const svc = new PullRequestHoldService(
    60_000,
    () => max,
    (p) => woken.push(p.pullFromThisOffset),
    getLogger('test.hold'),
  );
  // Its read found offset 4 empty; meanwhile message 4 was stored and dispatched with nothing parked.
  max = 5;
  svc.suspend('T', 0, pull(4));
  assert.deepEqual(woken, [4], 'woken as it parks, not at the next scan');
  assert.equal(svc.size, 0);
  svc.suspend('T', 0, pull(5));
  assert.deepEqual(woken, [4], 'nothing past offset 5 yet: parked');
  assert.equal(svc.size, 1);
});
