// Runs the whole suite with node's built-in test runner (TypeScript through tsx), a spec report for people and
// a closing "N passed, N failed, N skipped" line for CI. Pass file paths to run only those.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function find(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...find(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const files = process.argv.length > 2 ? process.argv.slice(2) : find('test').sort();
const args = [
  '--import', 'tsx', '--test',
  '--test-concurrency=2',
  '--test-timeout=300000',
  '--test-reporter=spec', '--test-reporter-destination=stdout',
  '--test-reporter=./scripts/summary-reporter.mjs', '--test-reporter-destination=stdout',
  ...files,
];
const r = spawnSync(process.execPath, args, { stdio: 'inherit', env: { ...process.env, TELEGEN_TEST: '1' } });
process.exit(r.status ?? 1);
