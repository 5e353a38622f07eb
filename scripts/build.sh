#!/usr/bin/env bash
# Build everything generated: TypeScript → dist/, build info, the libbpf addon, the BPF objects.
# Each step is incremental, so running it again with nothing changed takes a second or two.
set -euo pipefail
cd "$(dirname "$0")/.."

npx tsc -p tsconfig.json
node scripts/write-build-info.mjs

# Kernel side and its bridge (added by the eBPF core): built only when their sources exist.
if [ -f bpf/Makefile ]; then make -s -C bpf >&2; fi
if [ -f native/binding.gyp ]; then bash scripts/build-native.sh; fi
