import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { replaceTable, requestCodeTable } from '../../scripts/compat-table.js';

test('docs/compatibility.md lists every request code as the code serves it', () => {
  const path = new URL('../../docs/compatibility.md', import.meta.url).pathname;
  const doc = readFileSync(path, 'utf8');
  assert.equal(
    doc,
    replaceTable(doc, requestCodeTable()),
    'run: node --import tsx scripts/compat-table.ts --write',
  );
});
