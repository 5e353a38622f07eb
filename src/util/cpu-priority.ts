// The agent yields the CPU to the workloads it observes: every thread of this process gets a nice value (Linux
// keeps one per thread; threads created later inherit their creator's, so the main thread's covers the ring-buffer
// poller and the libuv pool started afterwards). Lowering priority needs no capability (no CAP_SYS_NICE), in a
// container or under systemd alike; it is only ever lowered here, never raised (raising would need the capability).
import { getPriority, setPriority } from 'node:os';
import { readdirSync } from 'node:fs';

export interface PriorityResult {
  nice: number;
  /** Threads set to `nice` (already at or below that priority: left alone). */
  threads: number;
  errors: string[];
}

/** Set every thread of this process to `nice` (0–19) unless it already runs at that or a lower priority. */
export function lowerCpuPriority(nice: number): PriorityResult {
  const result: PriorityResult = { nice, threads: 0, errors: [] };
  if (nice <= 0) return result;
  let tids: number[];
  try {
    tids = readdirSync('/proc/self/task').map(Number).filter((n) => Number.isInteger(n) && n > 0);
  } catch {
    tids = [0]; // no /proc: this thread only (setpriority(PRIO_PROCESS, 0) is the calling thread on Linux)
  }
  for (const tid of tids) {
    try {
      if (getPriority(tid) >= nice) continue;
      setPriority(tid, nice);
      result.threads++;
    } catch (e) {
      // A thread that exited meanwhile (ESRCH) is fine; anything else is reported.
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ESRCH' && !/ESRCH/.test(String((e as Error).message))) result.errors.push(`${tid}: ${(e as Error).message}`);
    }
  }
  return result;
}
