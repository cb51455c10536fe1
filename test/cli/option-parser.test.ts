import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OptionParser, intOption, javaBoolean } from '../../src/cli/option-parser.js';
import { RmqError } from '../../src/common/errors.js';
import {
  TOOLS,
  producerConfig,
  consumerConfig,
  batchProducerConfig,
  tproducerConfig,
} from '../../src/cli/mqbench/options.js';
import { parseStopRule } from '../../src/cli/mqbench/stats.js';

const parser = new OptionParser([
  { short: 'h', long: 'help', hasArg: false, description: 'help' },
  { short: 'v', long: 'verbose', hasArg: false, description: 'flag' },
  { short: 'n', long: 'namesrvAddr', hasArg: true, description: 'ns' },
  { short: 't', long: 'topic', hasArg: true, description: 'topic' },
  { short: 'ri', long: 'reportInterval', hasArg: true, description: 'interval' },
  { short: 'r', long: 'failRate', hasArg: true, description: 'rate' },
  { short: 'bn', long: 'brokerName', hasArg: true, description: 'broker' },
]);

const illegal = (err: unknown): boolean => err instanceof RmqError && err.code === 'RMQ_ILLEGAL_ARGUMENT';

test('multi-letter short options, as upstream writes them', () => {
  const o = parser.parse(['-ri', '1000', '-bn', 'broker-a', '-r', '0.5', '-t', 'T1']);
  assert.equal(o.value('ri'), '1000');
  assert.equal(o.value('reportInterval'), '1000', 'found by long name too');
  assert.equal(o.value('bn'), 'broker-a');
  assert.equal(o.value('r'), '0.5');
  assert.equal(o.value('t'), 'T1');
});

test('values inline, attached, with = and through long names or their prefixes', () => {
  assert.equal(parser.parse(['-tTopicA']).value('t'), 'TopicA');
  assert.equal(parser.parse(['-t=TopicB']).value('t'), 'TopicB');
  assert.equal(parser.parse(['-ri=250']).value('ri'), '250');
  assert.equal(parser.parse(['--topic', 'C']).value('t'), 'C');
  assert.equal(parser.parse(['--topic=D']).value('t'), 'D');
  assert.equal(parser.parse(['--report', '7']).value('ri'), '7', 'unambiguous prefix of a long name');
  assert.equal(parser.parse(['-topic', 'E']).value('t'), 'E', 'a long name with one dash');
  assert.equal(
    parser.parse(['-n', '127.0.0.1:9876;127.0.0.2:9876']).value('n'),
    '127.0.0.1:9876;127.0.0.2:9876',
  );
});

test('flags, flag groups, negative numbers as values, -- and positional arguments', () => {
  const o = parser.parse(['-hv', 'pos1', '-r', '-1', '--', '-t', 'x']);
  assert.ok(o.has('h') && o.has('verbose'));
  assert.equal(o.value('r'), '-1');
  assert.deepEqual(o.args, ['pos1', '-t', 'x']);
  assert.equal(o.has('t'), false);
  const twice = parser.parse(['-t', 'a', '-t', 'b']);
  assert.equal(twice.value('t'), 'a', 'the first value, as getOptionValue');
  assert.deepEqual(twice.allValues('t'), ['a', 'b']);
  assert.equal(parser.parse(['-t', ' spaced ']).value('t'), 'spaced', 'values are trimmed');
});

test('unknown options, missing values, values given to flags and ambiguous prefixes are errors', () => {
  assert.throws(() => parser.parse(['-x']), illegal);
  assert.throws(() => parser.parse(['--nope']), illegal);
  assert.throws(() => parser.parse(['-t']), illegal);
  assert.throws(() => parser.parse(['-t', '-ri', '5']), illegal, 'an option is not a value');
  assert.throws(() => parser.parse(['--verbose=yes']), illegal);
  assert.throws(
    () =>
      new OptionParser([
        { long: 'alpha', hasArg: true, description: '' },
        { long: 'alps', hasArg: true, description: '' },
      ]).parse(['--al', '1']),
    illegal,
  );
});

test('Java-style boolean and integer values', () => {
  assert.equal(javaBoolean('TRUE'), true);
  assert.equal(javaBoolean('yes'), false);
  assert.equal(javaBoolean(undefined, true), true);
  assert.equal(intOption(parser.parse(['-ri', '42']), 'ri', 1), 42);
  assert.equal(intOption(parser.parse([]), 'ri', 10000), 10000);
  assert.throws(() => intOption(parser.parse(['-ri', '4.2']), 'ri', 1), illegal);
});

test('help lists every option', () => {
  const help = parser.help('tool');
  for (const name of ['-ri,--reportInterval <arg>', '-h,--help', '-bn,--brokerName <arg>']) {
    assert.ok(help.includes(name), `${name} in\n${help}`);
  }
});

test('mqbench producer: upstream defaults, -c as tag count, -q as count or duration', () => {
  const d = producerConfig(TOOLS.producer.parse([]));
  assert.equal(d.topic, 'BenchmarkTest');
  assert.equal(d.messageSize, 128);
  assert.equal(d.inFlight, 64);
  assert.equal(d.reportIntervalMs, 10000);
  assert.equal(d.serializeType, 'ROCKETMQ');
  assert.equal(d.asyncEnable, false);
  assert.equal(d.autoBatch, false);
  assert.deepEqual(d.stop, {});
  const c = producerConfig(
    TOOLS.producer.parse([
      '-n',
      'h:1',
      '-t',
      'T',
      '-w',
      '1000',
      '-s',
      '1024',
      '-k',
      'true',
      '-c',
      '3',
      '-y',
      'true',
      '-ri',
      '1000',
      '-q',
      '5000',
      '-ab',
      '64',
    ]),
  );
  assert.equal(c.namesrvAddr, 'h:1');
  assert.equal(c.tagCount, 3);
  assert.equal(c.keyEnable, true);
  assert.equal(c.asyncEnable, true);
  assert.deepEqual(c.autoBatch, { maxMessages: 64 });
  assert.deepEqual(c.stop, { count: 5000 });
  assert.equal(producerConfig(TOOLS.producer.parse(['-l', '7'])).tagCount, 7);
  assert.deepEqual(producerConfig(TOOLS.producer.parse(['-q', '10s'])).stop, { durationMs: 10000 });
  assert.deepEqual(producerConfig(TOOLS.producer.parse(['-ab', 'true'])).autoBatch, { maxMessages: 128 });
  assert.throws(() => producerConfig(TOOLS.producer.parse(['-m', 'true'])), illegal, 'trace is refused');
  assert.throws(() => producerConfig(TOOLS.producer.parse(['-a', 'true'])), illegal, 'ACL is refused');
  assert.throws(() => producerConfig(TOOLS.producer.parse(['-q', 'soon'])), illegal);
  assert.throws(() => producerConfig(TOOLS.producer.parse(['-w', '0'])), illegal);
});

test('mqbench consumer, tproducer and batchproducer defaults follow upstream', () => {
  const c = consumerConfig(TOOLS.consumer.parse([]));
  assert.equal(c.concurrency, 20);
  assert.equal(c.group, 'benchmark_consumer');
  assert.equal(c.failRate, 0);
  assert.match(consumerConfig(TOOLS.consumer.parse(['-p', 'true'])).group, /^benchmark_consumer_\d+$/);
  assert.equal(consumerConfig(TOOLS.consumer.parse(['-r', '0.25'])).failRate, 0.25);
  const t = tproducerConfig(TOOLS.tproducer.parse(['-sr', '0.1', '-b', '77']));
  assert.equal(t.inFlight, 32);
  assert.equal(t.messageSize, 2048);
  assert.equal(t.sendRollbackRate, 0.1);
  assert.equal(t.batchId, 77);
  const b = batchProducerConfig(TOOLS.batchproducer.parse(['-b', '32', '-l', '2', '-c', 'ak']));
  assert.equal(b.batchSize, 32);
  assert.equal(b.tagCount, 2);
  assert.equal(b.inFlight, 64);
  assert.ok(b.namesrvAddr, 'batchproducer has a default NameServer');
});

test('stop rules', () => {
  assert.deepEqual(parseStopRule('200000'), { count: 200000 });
  assert.deepEqual(parseStopRule('500ms'), { durationMs: 500 });
  assert.deepEqual(parseStopRule('2m'), { durationMs: 120000 });
  assert.deepEqual(parseStopRule('0'), {});
  assert.throws(() => parseStopRule('1d'));
});
