// The per-CPU lines of /proc/stat ("cpuN user nice system idle iowait irq softirq steal guest guest_nice", in
// USER_HZ ticks since boot): one parser for the host-metrics cpu collector and the HTTP tracer's overload guard.
import { readFileSync } from 'node:fs';

/** Calls cb for each `cpuN` line with N and its tick fields in file order (the aggregate `cpu` line is skipped). */
export function forEachCpuLine(text: string, cb: (cpu: number, ticks: number[]) => void): void {
  for (const line of text.split('\n')) {
    if (!/^cpu\d+ /.test(line)) continue;
    const f = line.split(/\s+/);
    cb(Number(f[0]!.slice(3)), f.slice(1).filter(Boolean).map(Number));
  }
}

export interface CpuTicks {
  /** Ticks not idle and not waiting for I/O. */
  busy: number;
  /**
   * Ticks the CPU was this machine's: user … softirq (guest time is already inside user and nice). Steal is left
   * out of both: time the hypervisor gave to another guest is neither work nor spare time of this one, so a vCPU
   * stolen half the time and idle the rest is not "busy".
   */
  total: number;
}

/** Busy and total ticks of each online CPU, by CPU id; empty when /proc/stat cannot be read. */
export function readCpuTicks(procRoot = '/proc'): Map<number, CpuTicks> {
  const out = new Map<number, CpuTicks>();
  forEachCpuLine(readStat(procRoot), (cpu, t) => {
    let total = 0;
    for (let i = 0; i < 7 && i < t.length; i++) total += t[i]!;
    out.set(cpu, { busy: total - (t[3] ?? 0) - (t[4] ?? 0), total });
  });
  return out;
}

/**
 * Steal and total ticks of the aggregate `cpu` line: the share of this VM's CPU time the hypervisor gave to
 * others (benchmarks and timing tests report it: a stolen vCPU delays every timestamp and throughput on it).
 */
export function readStealTicks(procRoot = '/proc'): { steal: number; total: number } {
  const f = (/^cpu\s+(.*)$/m.exec(readStat(procRoot))?.[1] ?? '').split(/\s+/).map(Number);
  let total = 0;
  for (let i = 0; i < 8 && i < f.length; i++) total += f[i]!;
  return { steal: f[7] ?? 0, total };
}

/** /proc/stat's text, or '' when it cannot be read (nothing to report, never a throw in a periodic check). */
function readStat(procRoot: string): string {
  try {
    return readFileSync(`${procRoot}/stat`, 'latin1');
  } catch {
    return '';
  }
}
