import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  FrameDecoder,
  FrameSink,
  MAX_FRAME_LENGTH,
  decodeFrameContent,
  encodeFrameToBuffer,
} from '../../src/remoting/frame-codec.js';
import { SerializeType, type RemotingCommand } from '../../src/remoting/remoting-command.js';
import { RmqError } from '../../src/common/errors.js';

function decodeAll(bytes: Buffer, chunkSizes: number[] = [bytes.length]): RemotingCommand[] {
  const d = new FrameDecoder();
  const out: RemotingCommand[] = [];
  let pos = 0;
  let i = 0;
  while (pos < bytes.length) {
    const n = Math.max(1, chunkSizes[i++ % chunkSizes.length]!);
    d.push(bytes.subarray(pos, pos + n), (c) => out.push(c));
    pos += n;
  }
  return out;
}

test('decodes the ali-ons golden vector (GET_KV_CONFIG_BY_VALUE, 137 bytes)', () => {
  const json =
    '{"code":217,"language":"JAVA","opaque":1,"flag":0,"version":121,"extFields":{"namespace":"PROJECT_CONFIG","key":"192.168.1.103"}}';
  assert.equal(json.length, 129);
  const bytes = Buffer.concat([Buffer.from('0000008500000081', 'hex'), Buffer.from(json)]);
  assert.equal(bytes.length, 137);
  const [cmd] = decodeAll(bytes);
  assert.ok(cmd);
  assert.equal(cmd.code, 217);
  assert.equal(cmd.language, 'JAVA');
  assert.equal(cmd.opaque, 1);
  assert.equal(cmd.flag, 0);
  assert.equal(cmd.version, 121);
  assert.deepEqual(cmd.extFields, { namespace: 'PROJECT_CONFIG', key: '192.168.1.103' });
  assert.equal(cmd.body, undefined);
  assert.equal(cmd.serializeType, SerializeType.JSON);
});

test('ext field values sent as JSON numbers and booleans become strings (ali-ons quirk)', () => {
  const json =
    '{"code":11,"opaque":5,"flag":0,"version":121,"extFields":{"queueId":0,"k":false,"g":1795249721588,"n":null}}';
  const header = Buffer.from(json);
  const frame = Buffer.alloc(8 + header.length);
  frame.writeInt32BE(4 + header.length, 0);
  frame.writeInt32BE(header.length, 4);
  header.copy(frame, 8);
  const [cmd] = decodeAll(frame);
  assert.deepEqual(cmd!.extFields, { queueId: '0', k: 'false', g: '1795249721588' });
  assert.equal(cmd!.language, 'JAVA', 'missing language defaults to JAVA');
});

test('encoder writes every ext field as a string and mirrors the serialize type', () => {
  for (const serializeType of [SerializeType.JSON, SerializeType.ROCKETMQ]) {
    const cmd: RemotingCommand = {
      code: 310,
      language: 'JAVA',
      version: 409,
      opaque: 42,
      flag: 0,
      extFields: { a: 'g', e: '3' },
      body: Buffer.from('hello'),
      serializeType,
    };
    const bytes = encodeFrameToBuffer(cmd);
    assert.equal(bytes.readInt32BE(0), bytes.length - 4);
    assert.equal(bytes.readUInt8(4), serializeType);
    if (serializeType === SerializeType.JSON) {
      const headerLen = bytes.readInt32BE(4) & 0xffffff;
      const header = JSON.parse(bytes.toString('utf8', 8, 8 + headerLen)) as {
        extFields: Record<string, unknown>;
      };
      for (const v of Object.values(header.extFields)) assert.equal(typeof v, 'string');
    }
    const [back] = decodeAll(bytes);
    assert.equal(back!.serializeType, serializeType);
    assert.deepEqual(back!.body, Buffer.from('hello'));
  }
});

/** Text of the given length: printable ASCII. */
type Text = (minLength: number, maxLength: number) => fc.Arbitrary<string>;
const asciiText: Text = (minLength, maxLength) => fc.string({ minLength, maxLength });

/** Any text: control characters, quotes, non-ASCII, astral characters, lone surrogate halves. */
const anyText: Text = (minLength, maxLength) =>
  fc.oneof(
    fc.string({ unit: 'binary', minLength, maxLength }),
    fc.string({ minLength, maxLength }),
    fc
      .array(fc.integer({ min: 0, max: 0xffff }), { minLength, maxLength })
      .map((a) => String.fromCharCode(...a)),
  );

/** Commands whose remark, ext keys and ext values are drawn from `text`. */
function commandArbOf(text: Text, valueMinLength: number) {
  return fc.record({
    code: fc.integer({ min: -32768, max: 32767 }),
    language: fc.constantFrom('JAVA', 'GO', 'CPP', 'OTHER'),
    version: fc.integer({ min: 0, max: 32767 }),
    opaque: fc.integer({ min: -2147483648, max: 2147483647 }),
    flag: fc.integer({ min: 0, max: 3 }),
    remark: fc.option(text(1, 30), { nil: undefined }),
    extFields: fc.option(
      fc.dictionary(
        text(1, 20).filter((k) => k !== '__proto__'),
        text(valueMinLength, 50),
      ),
      { nil: undefined },
    ),
    body: fc.option(fc.uint8Array({ minLength: 1, maxLength: 300 }), { nil: undefined }),
    serializeType: fc.constantFrom(SerializeType.JSON, SerializeType.ROCKETMQ),
  });
}

const commandArb = commandArbOf(asciiText, 1);
const jsonCommandArb = commandArbOf(anyText, 0);

function normalize(c: RemotingCommand): unknown {
  return {
    ...c,
    extFields: c.extFields && Object.keys(c.extFields).length > 0 ? { ...c.extFields } : undefined,
    body: c.body ? Buffer.from(c.body) : undefined,
  };
}

test('property: any command round-trips through either serialization, whatever the chunking', () => {
  fc.assert(
    fc.property(
      fc.array(commandArb, { minLength: 1, maxLength: 5 }),
      fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1 }),
      (cmds, chunks) => {
        const inputs = cmds.map(
          (c) => ({ ...c, body: c.body ? Buffer.from(c.body) : undefined }) as RemotingCommand,
        );
        const bytes = Buffer.concat(inputs.map(encodeFrameToBuffer));
        const out = decodeAll(bytes, chunks);
        assert.equal(out.length, inputs.length);
        out.forEach((c, i) => assert.deepEqual(normalize(c), normalize(inputs[i]!)));
      },
    ),
    { numRuns: 300 },
  );
});

test('property: a JSON header is byte for byte JSON.stringify of the fields in fastjson order', () => {
  fc.assert(
    fc.property(jsonCommandArb, (c) => {
      const cmd = { ...c, serializeType: SerializeType.JSON, body: undefined } as RemotingCommand;
      const frame = encodeFrameToBuffer(cmd);
      const headerLen = frame.readInt32BE(4) & 0xffffff;
      const ext: Record<string, string> = {};
      for (const [k, v] of Object.entries(cmd.extFields ?? {}))
        if (v !== undefined && v !== null) ext[k] = String(v);
      const expected = JSON.stringify({
        code: cmd.code,
        ...(cmd.extFields ? { extFields: ext } : {}),
        flag: cmd.flag,
        language: cmd.language,
        opaque: cmd.opaque,
        ...(cmd.remark !== undefined && cmd.remark !== null ? { remark: cmd.remark } : {}),
        serializeTypeCurrentRPC: 'JSON',
        version: cmd.version,
      });
      assert.equal(frame.toString('utf8', 8, 8 + headerLen), expected);
    }),
    { numRuns: 500 },
  );
});

function frameWithHeader(type: number, header: Buffer, declaredHeaderLen = header.length): Buffer {
  const b = Buffer.alloc(8 + header.length);
  b.writeInt32BE(4 + header.length, 0);
  b.writeInt32BE(((type & 0xff) << 24) | declaredHeaderLen, 4);
  header.copy(b, 8);
  return b;
}

test('malformed frames are rejected with FRAME_INVALID', () => {
  const cases: [string, Buffer][] = [
    ['negative length', Buffer.from('ffffffff00000000', 'hex')],
    ['length below 4', Buffer.from('0000000200000000', 'hex')],
    [
      'length above 16 MiB',
      (() => {
        const b = Buffer.alloc(8);
        b.writeInt32BE(MAX_FRAME_LENGTH + 1, 0);
        return b;
      })(),
    ],
    ['header length past the frame', frameWithHeader(0, Buffer.from('{}'), 100)],
    ['header not JSON', frameWithHeader(0, Buffer.from('{not json'))],
    ['header JSON but not an object', frameWithHeader(0, Buffer.from('[1,2]'))],
    ['code not a number', frameWithHeader(0, Buffer.from('{"code":"abc"}'))],
    ['unknown serialize type', frameWithHeader(7, Buffer.from('{}'))],
    ['binary header too short', frameWithHeader(1, Buffer.from('0001', 'hex'))],
    [
      'binary remark length past header',
      frameWithHeader(
        1,
        Buffer.concat([Buffer.from('000a00000100000001000000007fffffff', 'hex'), Buffer.alloc(4)]),
      ),
    ],
  ];
  for (const [name, bytes] of cases) {
    assert.throws(
      () => new FrameDecoder().push(bytes, () => assert.fail(`${name}: should not decode`)),
      (err: unknown) => err instanceof RmqError && err.code === 'RMQ_FRAME_INVALID',
      name,
    );
  }
});

test('a frame split across many chunks is assembled once and bodies are exact', () => {
  const body = Buffer.alloc(200_000, 7);
  const cmd: RemotingCommand = {
    code: 11,
    language: 'JAVA',
    version: 1,
    opaque: 9,
    flag: 1,
    body,
    serializeType: 0,
  };
  const bytes = encodeFrameToBuffer(cmd);
  const out = decodeAll(bytes, [1000, 3, 77]);
  assert.equal(out.length, 1);
  assert.ok(out[0]!.body!.equals(body));
  assert.equal(decodeFrameContent(bytes.subarray(4)).opaque, 9);
});

test('FrameSink: frames of one tick in one buffer, large bodies passed as they are, in order', () => {
  const sink = new FrameSink();
  const big = Buffer.alloc(100_000, 3);
  const cmds: RemotingCommand[] = [0, 1, 2, 3].map((i) => ({
    code: 10 + i,
    language: 'JAVA',
    version: 1,
    opaque: i,
    flag: 0,
    extFields: { k: `v${i}` },
    body: i === 2 ? big : Buffer.from(`small ${i}`),
    serializeType: i % 2 === 0 ? SerializeType.JSON : SerializeType.ROCKETMQ,
  }));
  for (const c of cmds) sink.append(c);
  assert.ok(sink.bytes > 100_000);
  const parts = sink.take();
  assert.equal(sink.bytes, 0);
  assert.ok(parts.includes(big), 'the large body is not copied');
  assert.equal(parts.length, 3, 'before the large body, the body itself, after it');
  const out = decodeAll(Buffer.concat(parts));
  assert.deepEqual(
    out.map((c) => [c.code, c.opaque, c.extFields?.k, c.body?.length]),
    cmds.map((c) => [c.code, c.opaque, c.extFields?.k, c.body?.length]),
  );
  sink.append(cmds[0]!);
  const again = sink.take();
  assert.equal(again.length, 1);
  assert.equal(decodeAll(again[0]!)[0]!.opaque, 0, 'the slab keeps serving later frames');
});

test('ROCKETMQ header strings: repeated, unique, non-ASCII and empty values all decode exactly', () => {
  // More distinct short values than the decoder's intern slots, each decoded twice, interleaved
  // with values that repeat every time (keys, topic) and ones that are not ASCII.
  const values: string[] = [];
  for (let i = 0; i < 6000; i++)
    values.push(i % 7 === 0 ? `主题-${i}` : i % 11 === 0 ? '' : `v${i.toString(36)}`);
  // Same length in UTF-16 units, different bytes: "Ã©" (4 bytes) then "é" (2 bytes), and back.
  values.push('Ã©', 'é', 'Ã©', 'é', 'é');
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < values.length; i++) {
      const cmd: RemotingCommand = {
        code: 10,
        language: 'JAVA',
        version: 1,
        opaque: i,
        flag: 0,
        remark: i % 13 === 0 ? 'réponse' : undefined,
        extFields: {
          topic: 'TopicTest',
          value: values[i]!,
          [`k${i % 50}`]: values[(i * 7) % values.length]!,
          ...(i >= values.length - 5 ? { same: values[i]! } : {}),
        },
        serializeType: SerializeType.ROCKETMQ,
      };
      const back = decodeFrameContent(encodeFrameToBuffer(cmd).subarray(4));
      assert.deepEqual(back.extFields, cmd.extFields);
      assert.equal(back.remark, cmd.remark);
    }
  }
});
