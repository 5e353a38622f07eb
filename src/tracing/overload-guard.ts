// When to take the HTTP tracer's hooks out of a loaded host. Kernel-side shedding (bpf/http.bpf.c) bounds what
// the agent parses, but not what the hooks themselves cost: every read/write of a traced connection still runs
// two tracepoint programs, and the kernel's syscall-tracepoint path is paid by every syscall while any syscall
// tracepoint is attached. At a server's saturation both costs come straight out of its throughput (nginx at
// saturation on 2 cores, fully traced: ~0.5 of its throughput; every exchange shed: 0.75–0.84, bench:syscall-hooks).
// So the tracer detaches its programs for a while (src/tracing/http-tracer.ts) when, over the last check:
//   - a CPU both shed exchanges and was busy at least saturated_cpu_percent — the host has no spare CPU and
//     the agent is falling behind or over its per-CPU rate (a niced agent starved by the workload); or
//   - the agent used more than max_agent_cpu_percent of the host's CPU time while HTTP events flowed — a hard
//     bound on what the capture may cost, whatever the host's load.
// Capture is then sampled in time instead of per exchange, and the workload gets the CPU back.
import { readCpuTicks, type CpuTicks } from '../util/proc-stat-cpus.js';

export interface OverloadSample {
  /** Exchanges shed so far, by CPU id (ShedStats.perCpuExchanges). */
  shedPerCpu: readonly number[];
  /** The agent process's CPU so far, µs (user + system, every thread). */
  agentCpuUs: number;
  /** HTTP events handled so far. */
  events: number;
  /** Monotonic ms. */
  atMs: number;
}

export interface OverloadLimits {
  /** % of the host's CPU time (all CPUs). */
  maxAgentCpuPercent: number;
  /** Busy % of a shedding CPU that counts as saturated. */
  saturatedCpuPercent: number;
}

/** What tipped the decision, for the log line and the status. */
export type OverloadCause =
  | { reason: 'agent_cpu'; agentCpuPercent: number }
  | { reason: 'saturated_cpu'; cpu: number; busyPercent: number; shed: number };

export class OverloadGuard {
  private cpus = new Map<number, CpuTicks>();
  private last?: OverloadSample;

  constructor(
    private readonly readCpus: () => Map<number, CpuTicks> = () => readCpuTicks(),
    private readonly cpuCount = () => this.cpus.size || 1,
  ) {}

  /** Start a new observation interval (capture was just attached): the next check looks from here. */
  baseline(s: OverloadSample): void {
    this.cpus = this.readCpus();
    this.last = s;
  }

  /** Since the previous baseline or check: why capture should be suspended, or undefined. */
  check(s: OverloadSample, limits: OverloadLimits): OverloadCause | undefined {
    const prev = this.last;
    const before = this.cpus;
    this.cpus = this.readCpus();
    this.last = s;
    if (!prev) return undefined;
    const elapsedUs = (s.atMs - prev.atMs) * 1000;
    if (elapsedUs > 0 && s.events > prev.events) {
      const agentCpuPercent = (100 * (s.agentCpuUs - prev.agentCpuUs)) / (elapsedUs * this.cpuCount());
      if (agentCpuPercent > limits.maxAgentCpuPercent) return { reason: 'agent_cpu', agentCpuPercent };
    }
    return this.saturatedCpu(before, prev.shedPerCpu, s.shedPerCpu, limits.saturatedCpuPercent);
  }

  /**
   * The busiest CPU that shed exchanges while busy at least `percent` of the interval. A CPU that sheds with
   * spare time (the per-CPU exchange bound on a fast server that is not saturated) keeps tracing.
   */
  private saturatedCpu(before: Map<number, CpuTicks>, shedBefore: readonly number[], shedNow: readonly number[], percent: number): OverloadCause | undefined {
    let worst: OverloadCause & { reason: 'saturated_cpu' } | undefined;
    for (const [cpu, t] of this.cpus) {
      const shed = (shedNow[cpu] ?? 0) - (shedBefore[cpu] ?? 0);
      const b = before.get(cpu);
      if (shed <= 0 || !b) continue;
      const total = t.total - b.total;
      if (total <= 0) continue;
      const busyPercent = (100 * (t.busy - b.busy)) / total;
      if (busyPercent >= percent && (!worst || busyPercent > worst.busyPercent)) worst = { reason: 'saturated_cpu', cpu, busyPercent, shed };
    }
    return worst;
  }
}
