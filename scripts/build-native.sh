#!/usr/bin/env bash
# Builds the libbpf Node-API addon (native/build/Release/telegen_bpf.node) with node-gyp against the installed
# Node headers. Incremental: skipped when no source changed since the last build. Quiet unless it fails.
set -euo pipefail
cd "$(dirname "$0")/../native"
out=build/Release/telegen_bpf.node
if [ -f "$out" ] && [ -z "$(find src binding.gyp -newer "$out" -print -quit)" ]; then exit 0; fi
gyp="../node_modules/.bin/node-gyp"
nodedir_arg=()
# Prefer the installed headers (no download); node-gyp fetches them otherwise.
if [ -f /usr/include/node/node_api.h ]; then nodedir_arg=(--nodedir=/usr); fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if [ ! -f build/Makefile ] || [ binding.gyp -nt build/Makefile ]; then
  "$gyp" configure "${nodedir_arg[@]}" >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
fi
rm -f "$out"
"$gyp" build -j 2 >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
grep -E 'warning|error' "$log" >&2 || true
[ -f "$out" ] || { echo "build-native: $out was not produced" >&2; exit 1; }
