#!/usr/bin/env bash
# One idempotent set-up for `npm start` and `npm test` on a fresh Debian machine (as root):
#   1. apt packages the build and the test suite need (only when one is missing);
#   2. `npm ci` (only when package-lock.json changed since the last install);
#   3. the build: TypeScript, native addon, BPF objects (each step skips itself when its inputs are unchanged).
# Quick when nothing changed: a few dpkg/stat checks and an incremental tsc.
set -euo pipefail
cd "$(dirname "$0")/.."
stamps=.setup-stamps
mkdir -p "$stamps"

# Build toolchain for the BPF objects and the libbpf addon, plus the real peers the tests run against.
APT_PACKAGES=(
  clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config make g++ python3
  prometheus prometheus-node-exporter nginx golang-go curl wrk iproute2 zsh fish
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing Debian packages (${missing[*]}); run as root or install them" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}" >&2
  # Packages such as nginx and node-exporter would start their own daemons on install and hold ports the
  # tests use; a policy-rc.d that says "no" keeps them stopped (the tests start their own copies on 127.0.0.1).
  policy=/usr/sbin/policy-rc.d
  had_policy=0; [ -e "$policy" ] && had_policy=1
  [ $had_policy -eq 1 ] || { printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; }
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 || true
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  [ $had_policy -eq 1 ] || rm -f "$policy"
fi

lock_hash=$(sha256sum package-lock.json | cut -c1-16)
if [ ! -d node_modules ] || [ "$(cat "$stamps/npm" 2>/dev/null)" != "$lock_hash" ]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$lock_hash" > "$stamps/npm"
fi

bash scripts/build.sh
