import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  checkBatch,
  decodeMessageBatch,
  encodeMessageBatch,
} from '../../../src/client/producer/message-batch.js';
import { Message } from '../../../src/client/message/message.js';
import { ErrorCode } from '../../../src/common/errors.js';

describe('batch encoding', () => {
  test('layout: size, magic 0, crc 0, flag, body, properties per message', () => {
    const m = new Message('T', 'ab', { flag: 7, tags: 'X' });
    const buf = encodeMessageBatch([m]);
    const props = Buffer.from('TAGS\u0001X\u0002WAIT\u0001true');
    assert.equal(buf.length, 20 + 2 + 2 + props.length);
    assert.equal(buf.readInt32BE(0), buf.length);
    assert.equal(buf.readInt32BE(4), 0);
    assert.equal(buf.readInt32BE(8), 0);
    assert.equal(buf.readInt32BE(12), 7);
    assert.equal(buf.readInt32BE(16), 2);
    assert.equal(buf.toString('utf8', 20, 22), 'ab');
    assert.equal(buf.readInt16BE(22), props.length);
    assert.ok(buf.subarray(24).equals(props));
  });

  test('round trip of bodies, flags and properties (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            body: fc.uint8Array({ minLength: 1, maxLength: 300 }),
            flag: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
            tags: fc.stringMatching(/^[A-Za-z0-9]{1,8}$/),
            user: fc
              .string({ minLength: 1, maxLength: 20 })
              .filter((s) => s.trim() !== '' && !s.includes('\u0001') && !s.includes('\u0002')),
          }),
          { minLength: 1, maxLength: 20 },
        ),
        (specs) => {
          const msgs = specs.map(
            (s) => new Message('T', s.body, { flag: s.flag, tags: s.tags, properties: { u: s.user } }),
          );
          const back = decodeMessageBatch(encodeMessageBatch(msgs));
          assert.equal(back.length, msgs.length);
          back.forEach((b, i) => {
            assert.ok(b.body.equals(msgs[i]!.body));
            assert.equal(b.flag, msgs[i]!.flag);
            assert.deepEqual(b.properties, msgs[i]!.properties);
          });
        },
      ),
    );
  });

  test('what cannot be batched is refused', () => {
    assert.throws(() => checkBatch([]), { code: ErrorCode.MESSAGE_ILLEGAL });
    assert.throws(() => checkBatch([new Message('A', 'x'), new Message('B', 'x')]), /same/);
    assert.throws(() => checkBatch([new Message('A', 'x', { delayTimeLevel: 3 })]), /TimeDelayLevel/);
    assert.throws(() => checkBatch([new Message('%RETRY%G', 'x')]), /Retry/);
    assert.throws(
      () => checkBatch([new Message('A', 'x'), new Message('A', 'x', { waitStoreMsgOK: false })]),
      /waitStoreMsgOK/,
    );
    assert.equal(checkBatch([new Message('A', 'x'), new Message('A', 'y')]), 'A');
  });
});
