// V8 heap flags for `telegen run`. V8 sizes its young generation for throughput-hungry servers: up to 16 MiB per
// semi-space, so an agent whose steady allocation is small still ends up with ~30–50 MB of new space resident.
// Those limits are fixed when the heap is created (v8.setFlagsFromString is too late: measured, new space still
// grows to 33 MB), so bin/telegen.js restarts the process — execv through the addon, same pid, nothing left
// behind — with the flags on the command line when they are not already there.
import { nativeAddon } from '../ebpf/native.js';

/**
 * Measured with `npm run bench:budgets` (docs/resource-budgets.md): 1 MiB semi-spaces cut idle RSS by ~20–30 MB;
 * at 10k spans/s the extra scavenges cost little next to the parsing.
 */
export const RUNTIME_FLAGS: readonly string[] = ['--max-semi-space-size=1'];

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
