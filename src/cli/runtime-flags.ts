// V8 flags for `telegen run`. V8 sizes its young generation for throughput-hungry servers (up to 16 MiB per
// semi-space); under bursts of traced traffic the new space grows to that and stays resident for a while.
// Those limits are fixed when the heap is created (v8.setFlagsFromString is too late: measured, new space still
// grows to 33 MB), so bin/telegen.js restarts the process — execv through the addon, same pid, nothing left
// behind — with the flags on the command line when they are not already there.
import { nativeAddon } from '../ebpf/native.js';

/**
 * Measured side by side under the same traced traffic (~15k spans/s, docs/resource-budgets.md): CPU per 1k spans
 * 2.28% with 1 MiB semi-spaces, 2.11% with 4, 1.81% with 8, 1.78% with V8's default; peak RSS 224, 220, 225 and
 * 249 MB. Idle agents end at the same RSS whatever the size (V8 shrinks new space when idle; start-up peak 117,
 * 121, 129, 136 MB). 8 MiB keeps the default's CPU and most of the smaller sizes' peak memory.
 *
 * `--bytecode-old-age=1`: V8 drops the bytecode (and its constant pool, source positions, feedback metadata) of a
 * function that has not run since the previous full GC, instead of after 5 of them; it is compiled again if it runs
 * again. An idle agent has few full GCs, so with V8's default the start-up code (config loading, schema building,
 * route registration, subsystem construction) stayed compiled for good. Side by side (docs/resource-budgets.md):
 * old space 14.2 vs 15.0 MB used, idle RSS -1.5 to -1.8 MB; CPU under traced load unchanged within noise (code
 * that runs keeps its bytecode: only what has not run since the last full GC is dropped).
 *
 * `--heap-growing-percent=50`: after a full GC V8 lets the old generation grow to 1.5× what survived, instead of a
 * factor it picks between 1.1 and 4 from how fast GC runs against the program (a fast GC on a small heap gets a large
 * factor). Under traced traffic what reaches the old generation is mostly garbage: spans and batches held about a
 * second (batch_delay, the queue's flush) survive two scavenges and are promoted. A heap snapshot at 8k spans/s
 * showed 18 MB live while heapUsed peaked near 74 MB. bench:budgets (10k spans/s, 2026-12-03, one host, runs
 * interleaved): peak RSS 185–209 MB over five runs without it, 136–141 MB over three with 20 or 50. Load CPU
 * 20.7–28.4% without, 23.0–27.1% with (within the noise of the runs). bench:http-tracing at 1k / 8k req/s, two
 * runs each way: 3.43 / 2.11% and 1.26 / 1.47% per 1k req/s without, 2.93 / 1.68% and 1.59 / 1.41% with.
 * `--optimize-for-size` brought the peak down further, to 121–125 MB, but doubled the CPU under load (55–57%).
 */
export const RUNTIME_FLAGS: readonly string[] = ['--max-semi-space-size=8', '--bytecode-old-age=1', '--heap-growing-percent=50'];

const flagName = (f: string): string => f.split('=')[0]!.replace(/_/g, '-');

/** Commands that live long enough for heap sizing to matter: `run`, also when implied by flags or nothing. */
function isRun(args: readonly string[]): boolean {
  const first = args[0];
  if (first === undefined || first === 'run') return true;
  return first.startsWith('-') && !['--help', '-h', '--version', '-v'].includes(first);
}

/**
 * The argv to exec so that `flags` are in force, or undefined when nothing is to be done: not `run`, a flag of
 * the same name already given (on the command line or in NODE_OPTIONS: the operator's choice wins), or
 * TELEGEN_NODE_FLAGS set to the flags to use instead ("" = none).
 */
export function reexecArgv(
  argv: readonly string[], execArgv: readonly string[], env: NodeJS.ProcessEnv, execPath: string,
): string[] | undefined {
  const [, script, ...args] = argv;
  if (!script || !isRun(args)) return undefined;
  const flags = env.TELEGEN_NODE_FLAGS !== undefined ? env.TELEGEN_NODE_FLAGS.split(/\s+/).filter(Boolean) : RUNTIME_FLAGS;
  const given = new Set([...execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)].filter(Boolean).map(flagName));
  const missing = flags.filter((f) => !given.has(flagName(f)));
  if (missing.length === 0) return undefined;
  return [execPath, ...execArgv, ...missing, script, ...args];
}

/** Restart with the runtime flags when needed; returns when no restart is needed or possible (no addon). */
export function applyRuntimeFlags(): void {
  const next = reexecArgv(process.argv, process.execArgv, process.env, process.execPath);
  if (!next) return;
  try {
    nativeAddon().execSelf(next);
  } catch {
    // The addon is not built (eBPF unavailable) or exec failed: run on Node's default heap sizing.
  }
}
