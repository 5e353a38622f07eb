// Captures version, git commit and build time at build, for `telegen version` and GET /status.
// Rewritten only when the commit or version changes, so an unchanged tree keeps its build time.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short=7', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] })
    .toString().trim();
} catch { /* not a git checkout (e.g. a tarball): keep "unknown" */ }

const out = 'dist/build-info.json';
const prev = existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : null;
if (!prev || prev.version !== pkg.version || prev.commit !== commit) {
  writeFileSync(out, JSON.stringify({ version: pkg.version, commit, built: new Date().toISOString() }) + '\n');
}
