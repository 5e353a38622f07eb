// Kernel-side shedding counters (bpf/http.bpf.c http_shed_stats, one slot per CPU): what the HTTP programs did not
// capture because user space was behind. Summed over CPUs when read; the growth since the last read is added to
// telegen_http_dropped_total{reason="shed"} (exchanges) so /metrics and /status/ebpf show it.
import type { BpfMap } from '../ebpf/core.js';
import { perCpuField, sumPerCpu } from '../ebpf/per-cpu.js';

/** enum http_shed_stat in bpf/http.h. */
const EXCHANGES = 0;
const SYSCALLS = 1;
const NSTATS = 2;

export interface ShedTotals {
  /** Request turns not captured (one per request without pipelining). */
  exchanges: number;
  /** Data syscalls not captured. */
  syscalls: number;
}

export class ShedStats {
  /** Exchanges already handed out as newExchanges. */
  private reported = 0;
  /** Totals of maps already closed (a reload loads a new object whose counters start at zero). */
  private base: ShedTotals = { exchanges: 0, syscalls: 0 };
  private map?: BpfMap;

  attach(map: BpfMap): void {
    this.detach();
    this.map = map;
  }

  /** Fold the current map's counts into the base before its object is closed. */
  detach(): void {
    if (!this.map) return;
    const t = this.readMap();
    this.base = { exchanges: this.base.exchanges + t.exchanges, syscalls: this.base.syscalls + t.syscalls };
    this.map = undefined;
  }

  /** Totals since the tracer was created, and the exchanges shed since the previous call. */
  poll(): { totals: ShedTotals; newExchanges: number } {
    const t = this.readMap();
    const totals = { exchanges: this.base.exchanges + t.exchanges, syscalls: this.base.syscalls + t.syscalls };
    const newExchanges = Math.max(0, totals.exchanges - this.reported);
    this.reported = totals.exchanges;
    return { totals, newExchanges };
  }

  /** Exchanges shed so far on each CPU by the current object (index = CPU id; empty without one). */
  perCpuExchanges(): number[] {
    return perCpuField(this.map?.lookup(Buffer.alloc(4)), NSTATS, EXCHANGES);
  }

  private readMap(): ShedTotals {
    const v = this.map?.lookup(Buffer.alloc(4));
    if (!v) return { exchanges: 0, syscalls: 0 };
    const t = sumPerCpu(v, NSTATS);
    const exchanges = t[EXCHANGES]!;
    const syscalls = t[SYSCALLS]!;
    return { exchanges, syscalls };
  }
}
