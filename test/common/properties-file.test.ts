import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProperties, propertiesToMap } from '../../src/common/config/properties-file.js';

test('reads Java .properties the way java.util.Properties does', () => {
  const text = [
    '# comment',
    '! also a comment',
    'brokerClusterName = Homsom.Cluster',
    'brokerName:broker-a',
    'brokerId 0',
    '   deleteWhen=04   ',
    'namesrvAddr=localhost:9876;localhost:9875',
    'multi=one \\',
    '    two',
    'unicode=\\u4f60\\u597d',
    'escaped\\=key=v',
    'empty=',
    'storePathRootDir=/a',
    'storePathRootDir=/b',
  ].join('\r\n');
  const map = propertiesToMap(parseProperties(text));
  assert.equal(map.get('brokerClusterName'), 'Homsom.Cluster');
  assert.equal(map.get('brokerName'), 'broker-a');
  assert.equal(map.get('brokerId'), '0');
  assert.equal(
    map.get('deleteWhen'),
    '04   ',
    'trailing whitespace kept like Java (values are trimmed when typed)',
  );
  assert.equal(map.get('namesrvAddr'), 'localhost:9876;localhost:9875');
  assert.equal(map.get('multi'), 'one two');
  assert.equal(map.get('unicode'), '你好');
  assert.equal(map.get('escaped=key'), 'v');
  assert.equal(map.get('empty'), '');
  assert.equal(map.get('storePathRootDir'), '/b', 'last value wins');
  assert.equal(map.size, 10);
});
