#!/usr/bin/env node
// The `telegen` executable: a thin shim over the compiled CLI (built by `npm run build` / the set-up).
import { main } from '../dist/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => { if (typeof code === 'number') process.exitCode = code; },
  (err) => { console.error(err?.stack ?? String(err)); process.exit(1); },
);
