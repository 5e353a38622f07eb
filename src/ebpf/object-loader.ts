// A loaded BPF object as the registry and the tracers see it (BpfObjectHandle): program/map listings with
// kernel ids, attach/detach by program name, typed map access, and one idempotent close.
import { BpfLoadError, type BpfMap, type BpfObjectHandle, type MapInfo, type PerfEventAttachOptions, type ProgramInfo } from './core.js';
import { isNativeError, type NativeAddon, type NativeLink, type NativeMap, type NativeObject } from './native.js';
import { cpus } from 'node:os';

const PERCPU_MAP_TYPES = new Set(['percpu_hash', 'percpu_array', 'lru_percpu_hash', 'percpu_cgroup_storage']);

/** The program type the status shows: libbpf's type name, except that uprobes are kprobe-typed programs. */
export function programTypeName(type: string, section: string): string {
  if (/^uretprobe|^uprobe/.test(section)) return 'uprobe';
  return type;
}

/** Wrap an addon failure into a BpfLoadError carrying the step and the verifier/libbpf log. */
export function toLoadError(e: unknown, fallbackStep: BpfLoadError['step']): Error {
  if (!isNativeError(e)) return e as Error;
  const step = (['open', 'configure', 'load', 'attach'] as const).find((s) => s === e.step) ?? fallbackStep;
  // libbpf names the program the kernel refused; say it up front.
  const prog = /prog '([^']+)': (?:BPF program load failed|failed to load)/.exec(e.log)?.[1];
  return new BpfLoadError(prog ? `${e.message}, program ${prog}` : e.message, step, e.log);
}

export class LoadedObject implements BpfObjectHandle {
  private readonly links = new Map<string, NativeLink[]>();
  private readonly programList: ReadonlyArray<{ name: string; type: string; id: number }>;
  private readonly mapList: readonly NativeMap[];
  private closed = false;

  constructor(
    readonly name: string,
    private readonly native: NativeAddon,
    private readonly obj: NativeObject,
    /** Maps owned by the core (shared ring buffer, lost counter): not listed as this object's. */
    hiddenMaps: ReadonlySet<string>,
    private readonly onClose: (h: LoadedObject) => void = () => {},
  ) {
    this.programList = native.programs(obj).map((p) => ({ name: p.name, type: programTypeName(p.type, p.section), id: p.id }));
    this.mapList = native.maps(obj).filter((m) => !m.internal && !hiddenMaps.has(m.name));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  programs(): ProgramInfo[] {
    return this.programList.map((p) => ({ ...p, attached: this.links.has(p.name) }));
  }

  maps(): MapInfo[] {
    return this.mapList.map(mapInfo);
  }

  /** The fd of one of this object's maps (the core hands its shared maps' fds to every other object). */
  mapFd(name: string): number {
    const m = this.mapList.find((x) => x.name === name);
    if (!m) throw new Error(`object ${this.name} has no map ${name}`);
    return m.fd;
  }

  map(name: string): BpfMap {
    const m = this.mapList.find((x) => x.name === name);
    if (!m) throw new Error(`object ${this.name} has no map ${name}`);
    return new MapAccess(this.native, m, () => this.closed);
  }

  attach(program: string): void {
    this.ensureOpen();
    if (this.links.has(program)) return;
    try {
      this.links.set(program, [this.native.attach(this.obj, program)]);
    } catch (e) {
      throw toLoadError(e, 'attach');
    }
  }

  attachPerfEvent(program: string, opts: PerfEventAttachOptions): void {
    this.ensureOpen();
    if (this.links.has(program)) return;
    const list: NativeLink[] = [];
    try {
      for (const cpu of opts.cpus ?? cpus().map((_, i) => i)) {
        list.push(this.native.attachPerfEvent(this.obj, program, { cpu, pid: opts.pid ?? -1, frequency: opts.frequency }));
      }
    } catch (e) {
      for (const l of list) this.native.detach(l);
      throw toLoadError(e, 'attach');
    }
    this.links.set(program, list);
  }

  detach(program: string): void {
    for (const l of this.links.get(program) ?? []) this.native.detach(l);
    this.links.delete(program);
  }

  detachInBackground(programs: readonly string[]): Promise<void> {
    const links = programs.flatMap((p) => this.links.get(p) ?? []);
    for (const p of programs) this.links.delete(p);
    return links.length ? this.native.detachAsync(links) : Promise.resolve();
  }

  close(): void {
    if (this.closed) return;
    for (const p of [...this.links.keys()]) this.detach(p);
    this.native.close(this.obj);
    this.closed = true;
    this.onClose(this);
  }

  private ensureOpen(): void {
    if (this.closed) throw new Error(`BPF object ${this.name} is closed`);
  }
}

function mapInfo(m: NativeMap): MapInfo {
  return { name: m.name, type: m.type, id: m.id, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries };
}

class MapAccess implements BpfMap {
  readonly info: MapInfo;
  private readonly valueBytes: number;

  constructor(private readonly native: NativeAddon, private readonly m: NativeMap, private readonly closed: () => boolean) {
    this.info = mapInfo(m);
    // Per-CPU maps hold one 8-byte-aligned value per possible CPU.
    this.valueBytes = PERCPU_MAP_TYPES.has(m.type) ? ((m.valueSize + 7) & ~7) * native.numPossibleCpus() : m.valueSize;
  }

  lookup(key: Buffer): Buffer | null {
    this.check();
    return this.native.mapLookup(this.m.fd, key, this.valueBytes);
  }

  update(key: Buffer, value: Buffer, flags = 0): void {
    this.check();
    this.native.mapUpdate(this.m.fd, key, value, flags);
  }

  delete(key: Buffer): boolean {
    this.check();
    return this.native.mapDelete(this.m.fd, key);
  }

  entries(limit = this.m.maxEntries): Array<{ key: Buffer; value: Buffer }> {
    this.check();
    const [keys, values, n] = this.native.mapEntries(this.m.fd, this.m.keySize, this.valueBytes, limit);
    const out: Array<{ key: Buffer; value: Buffer }> = [];
    for (let i = 0; i < n; i++) {
      out.push({
        key: keys.subarray(i * this.m.keySize, (i + 1) * this.m.keySize),
        value: values.subarray(i * this.valueBytes, (i + 1) * this.valueBytes),
      });
    }
    return out;
  }

  count(): number {
    this.check();
    if (this.m.type === 'ringbuf' || this.m.keySize === 0) return 0;
    // Arrays always hold max_entries slots.
    if (this.m.type.endsWith('array')) return this.m.maxEntries;
    return this.native.mapCount(this.m.fd, this.m.keySize, this.m.maxEntries);
  }

  private check(): void {
    if (this.closed()) throw new Error(`map ${this.m.name}: its object is closed`);
  }
}
