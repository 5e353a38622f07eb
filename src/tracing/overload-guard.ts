// When to take the HTTP tracer's hooks out of a loaded host. Kernel-side shedding (bpf/http.bpf.c) bounds what
// the agent parses, but not what the hooks themselves cost: every read/write of a traced connection still runs
// two tracepoint programs, and the kernel's syscall-tracepoint path is paid by every syscall while any syscall
// tracepoint is attached. At a server's saturation both costs come straight out of its throughput (nginx at
// saturation on 2 cores, fully traced: ~0.5 of its throughput; every exchange shed: 0.75–0.84, bench:syscall-hooks).
// So the tracer detaches its programs for a while (src/tracing/http-tracer.ts) when, over the last check:
//   - a CPU both shed exchanges and was busy at least saturated_cpu_percent — no spare CPU there, and the agent
//     is falling behind or over its per-CPU rate (a niced agent starved by the workload); or
//   - the agent used more than max_agent_cpu_percent of the host's CPU time while HTTP events flowed AND the
//     host's CPUs together were busy at least saturated_cpu_percent — the capture is expensive and the workload
//     has no room for it. Both, because neither alone tells a saturated server from a busy one: at nginx's
//     saturation on 2 cores the agent took 16–23% of the host with the CPUs 70–85% busy and nothing shed (the
//     server migrates between CPUs, each under the per-CPU rate); at a steady 8k req/s on a contended VM the
//     agent took ~16% with the CPUs about half busy — that one must keep tracing.
// Capture is then sampled in time instead of per exchange, and the workload gets the CPU back. Each time capture
// comes back it runs at full cost until the overload is seen again; SuspensionBackoff keeps those phases rare
// while the overload persists.
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
  /** Busy % (steal left out) at which a shedding CPU, or the host's CPUs together, count as saturated. */
  saturatedCpuPercent: number;
}

/** What tipped the decision, for the log line and the status. */
export type OverloadCause =
  | { reason: 'agent_cpu'; agentCpuPercent: number; hostBusyPercent: number }
  | { reason: 'saturated_cpu'; cpu: number; busyPercent: number; shed: number };

/** The shortest interval a decision is taken over, ms. */
export const MIN_INTERVAL_MS = 200;

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

  /**
   * Since the previous baseline or check: why capture should be suspended, or undefined. A look less than
   * MIN_INTERVAL_MS after the previous one decides nothing and keeps the interval open (/proc/stat counts 10 ms
   * ticks: a shorter interval is mostly rounding).
   */
  check(s: OverloadSample, limits: OverloadLimits): OverloadCause | undefined {
    const prev = this.last;
    if (prev && s.atMs - prev.atMs < MIN_INTERVAL_MS) return undefined;
    const before = this.cpus;
    this.cpus = this.readCpus();
    this.last = s;
    if (!prev) return undefined;
    const shedding = this.saturatedCpu(before, prev.shedPerCpu, s.shedPerCpu, limits.saturatedCpuPercent);
    if (shedding) return shedding;
    const elapsedUs = (s.atMs - prev.atMs) * 1000;
    if (elapsedUs <= 0 || s.events <= prev.events) return undefined;
    const agentCpuPercent = (100 * (s.agentCpuUs - prev.agentCpuUs)) / (elapsedUs * this.cpuCount());
    const hostBusyPercent = this.hostBusyPercent(before);
    if (agentCpuPercent > limits.maxAgentCpuPercent && hostBusyPercent >= limits.saturatedCpuPercent) {
      return { reason: 'agent_cpu', agentCpuPercent, hostBusyPercent };
    }
    return undefined;
  }

  /** Busy share of all CPUs together since `before` (steal left out), %. */
  private hostBusyPercent(before: Map<number, CpuTicks>): number {
    let busy = 0;
    let total = 0;
    for (const [cpu, t] of this.cpus) {
      const b = before.get(cpu);
      if (!b) continue;
      busy += t.busy - b.busy;
      total += t.total - b.total;
    }
    return total > 0 ? (100 * busy) / total : 0;
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

/**
 * How long each suspension lasts: suspend_for, doubled for every suspension that comes less than suspend_for after
 * capture resumed (the overload persists), up to max_suspend_for; back to suspend_for once capture has run
 * suspend_for without one. Each resume costs the workload the capture phase before the check fires again: at
 * nginx's saturation a 30 s cycle spent ~1 s of it fully traced (~1.5 points of its throughput); doubling
 * makes that a few per cent of the cycles of a long overload.
 */
export class SuspensionBackoff {
  private streak = 0;
  private resumedAtMs?: number;

  /** The duration (ms) of a suspension beginning at `atMs` (monotonic ms). */
  next(atMs: number, baseMs: number, maxMs: number): number {
    const persists = this.resumedAtMs !== undefined && atMs - this.resumedAtMs < baseMs;
    this.streak = persists ? this.streak + 1 : 0;
    return Math.min(Math.max(maxMs, baseMs), baseMs * 2 ** Math.min(this.streak, 20));
  }

  /** Capture resumed at `atMs` (monotonic ms). */
  resumed(atMs: number): void {
    this.resumedAtMs = atMs;
  }

  /** A fresh start (tracer started, protection turned off): the next suspension is a first one. */
  reset(): void {
    this.streak = 0;
    this.resumedAtMs = undefined;
  }
}
