import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { javaStringHashCode } from '../../src/common/java-hash.js';

const vectors = JSON.parse(readFileSync(new URL('../fixtures/java-hash.json', import.meta.url), 'utf8')) as {
  s: string;
  hash: number;
}[];

test('String.hashCode matches the JDK for every fixture', () => {
  assert.ok(vectors.length >= 10);
  for (const v of vectors) assert.equal(javaStringHashCode(v.s), v.hash, JSON.stringify(v.s));
});
