import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { configReference } from '../../src/config/docs.js';

test('docs/configuration.md is what the schema generates (run `npm run docs:config` after changing it)', () => {
  const committed = readFileSync('docs/configuration.md', 'utf8').split('\n');
  const generated = configReference().split('\n');
  const i = generated.findIndex((line, n) => line !== committed[n]);
  assert.ok(i === -1 && committed.length === generated.length,
    `docs/configuration.md is stale at line ${i + 1}:\n  committed: ${committed[i]}\n  generated: ${generated[i]}\nrun: npm run docs:config`);
});
