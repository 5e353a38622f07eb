#!/usr/bin/env node
// The `telegen` executable: a thin shim over the compiled CLI (built by `npm run build` / the set-up).
// `run` first restarts itself (same pid) with V8 heap flags when they are missing: see src/cli/runtime-flags.ts.
import { applyRuntimeFlags } from '../dist/cli/runtime-flags.js';

applyRuntimeFlags();
const { main } = await import('../dist/cli/main.js');

main(process.argv.slice(2)).then(
  (code) => { if (typeof code === 'number') process.exitCode = code; },
  (err) => { console.error(err?.stack ?? String(err)); process.exit(1); },
);
