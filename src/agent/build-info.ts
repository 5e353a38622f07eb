// Version, commit and build time captured at build (scripts/write-build-info.mjs → dist/build-info.json).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export interface BuildInfo { version: string; commit: string; built: string }

let cached: BuildInfo | undefined;

export function buildInfo(): BuildInfo {
  if (cached) return cached;
  const here = dirname(fileURLToPath(import.meta.url));
  // dist/agent/build-info.js → dist/build-info.json; when run from sources (tsx) fall back to package.json.
  for (const p of [join(here, '..', 'build-info.json'), join(here, '..', '..', 'dist', 'build-info.json')]) {
    try {
      cached = JSON.parse(readFileSync(p, 'utf8')) as BuildInfo;
      return cached;
    } catch { /* try the next */ }
  }
  const pkg = JSON.parse(readFileSync(join(here, '..', '..', 'package.json'), 'utf8')) as { version: string };
  cached = { version: pkg.version, commit: 'unknown', built: 'unknown' };
  return cached;
}
