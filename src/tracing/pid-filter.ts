// Keeps the kernel's http_pid_filter map in step with discovery's decisions (the ONE implementation of
// discovery.instrument/exclude lives in the ProcessCatalog). The kernel applies a default to pids it has no
// entry for, so the map only holds exceptions: with no instrument rules every process is traced by default
// and the map lists the excluded ones (Telegen itself always); with instrument rules the default is to skip
// and the map lists the selected ones. Bounded by the map's max_entries; overflow is counted.
import { readdirSync } from 'node:fs';
import type { BpfMap } from '../ebpf/core.js';
import { u32 } from '../ebpf/map-codec.js';
import type { CatalogChange, ProcessCatalog } from '../discovery/catalog.js';
import { PidAction } from './http-event.js';

export class PidFilter {
  private readonly entries = new Map<number, number>();
  private defaultAction: number = PidAction.TRACE;
  private unsubscribe?: () => void;

  constructor(
    private readonly filterMap: BpfMap,
    private readonly settingsMap: BpfMap,
    private readonly catalog: ProcessCatalog,
    private readonly selfPid: number,
    private readonly onFull: () => void,
    /** A process that was not traced now is (its connections opened meanwhile can be adopted). */
    private readonly onTraced: (pid: number) => void = () => {},
  ) {}

  /** Does the kernel trace this process now (its entry, else the default)? */
  traced(pid: number): boolean {
    if (pid === this.selfPid) return false;
    return (this.entries.get(pid) ?? this.defaultAction) === PidAction.TRACE;
  }

  /** `traceByDefault`: no instrument rules (every process but the excluded ones). */
  start(traceByDefault: boolean): void {
    this.setDefault(traceByDefault);
    this.unsubscribe = this.catalog.onChange((c) => this.onChange(c));
  }

  setDefault(traceByDefault: boolean): void {
    this.defaultAction = traceByDefault ? PidAction.TRACE : PidAction.SKIP;
    const settings = Buffer.alloc(8);
    settings.writeUInt32LE(this.defaultAction, 0);
    this.settingsMap.update(u32(0), settings);
    this.resync();
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Re-decide every running process (start, and when the rules change). */
  resync(): void {
    const seen = new Set<number>();
    for (const name of safeReaddir('/proc')) {
      const pid = Number(name);
      if (!Number.isInteger(pid) || pid <= 0) continue;
      seen.add(pid);
      this.decide(pid);
    }
    for (const pid of [...this.entries.keys()]) if (!seen.has(pid)) this.remove(pid);
  }

  private onChange(c: CatalogChange): void {
    if (c.type === 'removed') this.remove(c.pid);
    else this.decide(c.pid);
  }

  private decide(pid: number): void {
    const before = this.traced(pid);
    this.apply(pid);
    if (!before && this.traced(pid)) this.onTraced(pid);
  }

  private apply(pid: number): void {
    let action: number;
    if (pid === this.selfPid) action = PidAction.SKIP;
    else if (!this.catalog.get(pid)) {
      // Not yet known to discovery (just started): the kernel default applies until it is.
      this.remove(pid);
      return;
    } else action = this.catalog.shouldInstrument(pid) ? PidAction.TRACE : PidAction.SKIP;
    if (action === this.defaultAction) {
      this.remove(pid);
      return;
    }
    if (this.entries.get(pid) === action) return;
    try {
      this.filterMap.update(u32(pid), u32(action));
      this.entries.set(pid, action);
    } catch {
      this.onFull();
    }
  }

  private remove(pid: number): void {
    if (pid === this.selfPid || !this.entries.has(pid)) return;
    this.entries.delete(pid);
    this.filterMap.delete(u32(pid));
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
