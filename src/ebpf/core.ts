// The eBPF core's public interface: what every tracer (TCP, HTTP, the profiler later) codes against.
// KEEP THIS FILE STABLE — other engineers build on it. The implementation lives in ebpf-subsystem.ts,
// object-loader.ts, registry.ts and ringbuf-dispatcher.ts; see src/ebpf/README.md for how a tracer plugs in.
import type { Subsystem } from '../agent/subsystem.js';

/**
 * Event kinds: the first field of every event's header (bpf/events.h `enum telegen_event_kind`). The core
 * dispatches ring-buffer records to subscribers by kind. Add new kinds in BOTH places (and in README.md).
 */
export const EventKind = {
  TCP: 1,
  PROCESS: 2,
  HTTP: 3,
  /** 4..63 are reserved for future tracers (profiler, DNS, …). */
  /** 200..255: test fixtures only. */
  TEST_FLOOD: 200,
} as const;
export type EventKind = (typeof EventKind)[keyof typeof EventKind] | number;

/** Byte size of `struct telegen_event_header` (bpf/events.h): kind u32, size u32, timestamp_ns u64. */
export const EVENT_HEADER_SIZE = 16;

/**
 * One delivery of ring-buffer records of a single kind. `buf` is a COPY owned by the receiver (it may keep it);
 * `offsets[i]` is where event i (its header) starts in `buf`. Each event is `header.size` bytes long (checked
 * by the core against the record length; malformed records are counted and never delivered).
 */
export interface EventBatch {
  readonly kind: number;
  readonly buf: Buffer;
  readonly offsets: readonly number[];
}

/** A value for a `const volatile` global in the object's `.rodata`, set before load. */
export type RodataValue = number | bigint | boolean;

export interface LoadObjectOptions {
  /** Registry name of the object (e.g. "tcp", "http"); unique among loaded objects. */
  name: string;
  /** Path to the compiled BPF object, e.g. `bpfObjectPath('tcp')` → bpf/.output/tcp.bpf.o. */
  objectFile: string;
  /** `.rodata` constants to set before load, by variable name (sizes come from BTF: 1, 2, 4 or 8 bytes). */
  rodata?: Readonly<Record<string, RodataValue>>;
  /** Override `max_entries` of maps before load, by map name (e.g. to bound a table from the config). */
  maxEntries?: Readonly<Record<string, number>>;
  /**
   * Programs (by function name in the .bpf.c) to attach right after load; the others stay loaded but detached
   * until `attach(name)`. Default: none (attach explicitly).
   */
  attach?: readonly string[];
}

/** A program of a loaded object, as the registry shows it. */
export interface ProgramInfo {
  /** Function name in the .bpf.c, e.g. `trace_tcp_connect`. */
  readonly name: string;
  /** `tracepoint`, `raw_tracepoint`, `tracing`, `uprobe`, `perf_event`, … */
  readonly type: string;
  readonly attached: boolean;
  /** Kernel program id (as in `bpftool prog list`). */
  readonly id: number;
}

export interface MapInfo {
  readonly name: string;
  /** `hash`, `lru_hash`, `array`, `percpu_array`, `ringbuf`, … */
  readonly type: string;
  /** Kernel map id (as in `bpftool map list`). */
  readonly id: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
}

/** Typed access to one BPF map. Keys/values are raw bytes laid out as in the C header. */
export interface BpfMap {
  readonly info: MapInfo;
  /** The value for key, or null when absent. Per-CPU maps return one value per possible CPU, concatenated. */
  lookup(key: Buffer): Buffer | null;
  /** flags: 0 = BPF_ANY, 1 = BPF_NOEXIST, 2 = BPF_EXIST. Throws with libbpf's message on failure. */
  update(key: Buffer, value: Buffer, flags?: number): void;
  /** True when the key existed. */
  delete(key: Buffer): boolean;
  /** Up to `limit` (default max_entries) entries, in kernel iteration order. */
  entries(limit?: number): Array<{ key: Buffer; value: Buffer }>;
  /** Number of entries (walks the keys; bounded by max_entries). */
  count(): number;
}

/** Where a perf_event program samples (the profiler): one perf event per CPU, software CPU clock by default. */
export interface PerfEventAttachOptions {
  /** Samples per second per CPU. */
  frequency: number;
  /** CPUs to sample on; default every online CPU. */
  cpus?: readonly number[];
  /** Only this process (-1 / absent = every process). */
  pid?: number;
}

/** A loaded BPF object, registered with the core until closed. */
export interface BpfObjectHandle {
  readonly name: string;
  programs(): ProgramInfo[];
  /** Maps declared by this object (the shared ring buffer and lost counter are the core's, not listed here). */
  maps(): MapInfo[];
  map(name: string): BpfMap;
  /** Attach a program by its function name (auto-attach from its SEC()). Idempotent. */
  attach(program: string): void;
  /** Attach a perf_event program to per-CPU sampling events. */
  attachPerfEvent(program: string, opts: PerfEventAttachOptions): void;
  /** Detach a program (it stays loaded). Idempotent. */
  detach(program: string): void;
  /**
   * Detach programs off the event loop: they count as detached at once (attach may follow at once; the kernel
   * then briefly runs both), the promise settles when the kernel let go of them. Closing a syscall tracepoint waits
   * for a grace period (~70 ms each, one at a time): detach() of many blocks the event loop that long.
   */
  detachInBackground(programs: readonly string[]): Promise<void>;
  /** Detach everything and unload the object; its programs and maps leave the kernel. Idempotent. */
  close(): void;
}

export interface ProcessEvent {
  /** listen: a TCP socket of the process entered LISTEN. */
  type: 'exec' | 'exit' | 'listen';
  pid: number;
  ppid: number;
  comm: string;
}

/** The failure of `loadObject`: libbpf's message plus the verifier log excerpt when the kernel refused a program. */
export class BpfLoadError extends Error {
  constructor(message: string, readonly step: 'open' | 'configure' | 'load' | 'attach', readonly verifierLog: string) {
    super(message);
    this.name = 'BpfLoadError';
  }
}

/**
 * The eBPF core: owns libbpf, the ONE shared ring buffer (`tg_events`, size `agent.ebpf.ringbuf_size`) and the
 * BPF-side lost-events counter (`tg_events_lost`). Every object loaded through it reuses both (it must include
 * bpf/common.h and submit with `tg_submit`/`tg_reserve`), and its records are dispatched by event kind.
 *
 * Other subsystems receive it by constructor argument (see src/agent/wiring.ts) and declare
 * `dependsOn: ['ebpf']`, so they start after it and stop before it.
 */
export interface EbpfCore {
  /** True after a successful start (root, BTF, addon, core object loaded) and until stop. */
  running(): boolean;
  /** Why it is not running: `disabled` or `failed: …` (same as the subsystem's health). */
  health(): import('../agent/subsystem.js').Health;
  /**
   * Open → set rodata/max_entries → reuse the shared maps → load → (attach). Throws BpfLoadError (with the
   * verifier excerpt) on failure, Error when the core is not running. The handle appears in /status/ebpf.
   */
  loadObject(opts: LoadObjectOptions): BpfObjectHandle;
  /** Receive every event of `kind` in batches. Returns the unsubscribe function. */
  subscribe(kind: number, cb: (batch: EventBatch) => void): () => void;
  /** exec/exit of processes (thread-group leaders) on the host. Returns the unsubscribe function. */
  subscribeProcessEvents(cb: (e: ProcessEvent) => void): () => void;
  /** The core runs with exec, exit and listen programs attached (discovery then rescans on its long interval). */
  processEventsActive(): boolean;
  /**
   * Resolves once every record committed to the ring before the call has been handed to its subscribers (the
   * poll thread is woken instead of waiting for delivery_latency). At once when the core is not running.
   */
  flushEvents(): Promise<void>;
}

/** GET /status/ebpf, exactly. */
export interface EbpfStatus {
  enabled: boolean;
  programs: Array<{ name: string; type: string; attached: boolean; id: number }>;
  maps: Array<{ name: string; type: string; entries: number; max_entries: number }>;
  ringbuf: { size: number; events_received: number; events_lost: number };
}

/** The core as the Agent sees it: the `ebpf` subsystem (status /status/ebpf, readiness check `ebpf`). */
export interface EbpfSubsystem extends EbpfCore, Subsystem {
  health(): import('../agent/subsystem.js').Health;
  status(): EbpfStatus;
}

/** Absolute path of a compiled object of the bpf/ folder: `bpfObjectPath('tcp')` → …/bpf/.output/tcp.bpf.o. */
export { bpfObjectPath } from './paths.js';
export { createEbpfCore } from './ebpf-subsystem.js';
