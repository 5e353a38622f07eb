// What the kernel side needs before anything is loaded, each missing piece named: privileges, BTF (CO-RE),
// tracefs (tracepoint ids). tracefs is mounted when absent.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

const CAP_SYS_ADMIN = 21n;
const CAP_PERFMON = 38n;
const CAP_BPF = 39n;

function effectiveCaps(): bigint {
  const m = /^CapEff:\s*([0-9a-f]+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? BigInt(`0x${m[1]}`) : 0n;
}

const has = (caps: bigint, bit: bigint) => (caps >> bit) & 1n;

/** null when eBPF can start, else the reason it cannot. */
export function preflight(): string | null {
  if (process.platform !== 'linux') return `eBPF needs Linux (running on ${process.platform})`;
  const caps = effectiveCaps();
  if (!has(caps, CAP_SYS_ADMIN) && !(has(caps, CAP_BPF) && has(caps, CAP_PERFMON))) {
    return 'not root (needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN)';
  }
  if (!existsSync('/sys/kernel/btf/vmlinux')) return 'no BTF (/sys/kernel/btf/vmlinux is missing; kernel built without CONFIG_DEBUG_INFO_BTF)';
  return ensureTracefs();
}

function ensureTracefs(): string | null {
  if (existsSync('/sys/kernel/tracing/events') || existsSync('/sys/kernel/debug/tracing/events')) return null;
  try {
    execFileSync('mount', ['-t', 'tracefs', 'nodev', '/sys/kernel/tracing'], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    return `tracefs is not mounted and mounting it failed: ${(e as { stderr?: Buffer }).stderr?.toString().trim() || (e as Error).message}`;
  }
  return existsSync('/sys/kernel/tracing/events') ? null : 'tracefs mounted but has no events/ (kernel without tracepoints?)';
}
