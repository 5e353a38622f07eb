// The registry: every loaded object and the load failures, turned into /status/ebpf and the telegen_ebpf_*
// self-metrics. State-derived numbers (map entries, BPF-counted losses) are read when asked.
import type { EbpfStatus, MapInfo, ProgramInfo } from './core.js';
import type { LoadedObject } from './object-loader.js';
import type { SelfMetrics } from '../telemetry/self-metrics.js';

export class Registry {
  readonly objects = new Map<string, LoadedObject>();
  /** Object name → why its load failed (cleared when it loads). */
  readonly failures = new Map<string, string>();

  add(o: LoadedObject): void {
    if (this.objects.has(o.name)) throw new Error(`a BPF object named ${o.name} is already loaded`);
    this.objects.set(o.name, o);
    this.failures.delete(o.name);
  }

  remove(o: LoadedObject): void {
    if (this.objects.get(o.name) === o) this.objects.delete(o.name);
  }

  programs(): ProgramInfo[] {
    return [...this.objects.values()].flatMap((o) => o.programs());
  }

  /** Every map with its live entry count (the core's shared maps included once). */
  maps(): Array<MapInfo & { entries: number }> {
    return [...this.objects.values()].flatMap((o) => o.maps().map((m) => ({ ...m, entries: safeCount(o, m.name) })));
  }

  status(enabled: boolean, ringbuf: EbpfStatus['ringbuf']): EbpfStatus {
    return {
      enabled,
      programs: this.programs().map((p) => ({ name: p.name, type: p.type, attached: p.attached, id: p.id })),
      maps: this.maps().map((m) => ({ name: m.name, type: m.type, entries: m.entries, max_entries: m.maxEntries })),
      ringbuf,
    };
  }

  /** Refresh the state-derived gauges (called just before each scrape). */
  collect(metrics: SelfMetrics): void {
    metrics.ebpfProgramsLoaded.reset();
    metrics.ebpfMapsCreated.reset();
    metrics.ebpfMapEntries.reset();
    for (const p of this.programs()) metrics.ebpfProgramsLoaded.inc({ program_type: p.type });
    for (const m of this.maps()) {
      metrics.ebpfMapsCreated.inc({ map_type: m.type });
      metrics.ebpfMapEntries.set({ map_name: m.name }, m.entries);
    }
  }
}

function safeCount(o: LoadedObject, map: string): number {
  try {
    return o.map(map).count();
  } catch {
    return 0;
  }
}
