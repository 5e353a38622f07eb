// The narrow interfaces discovery offers the rest of Telegen. Tracers depend on THIS file only (never on the
// scanner): it is the stable contract, kept small on purpose so the implementation can change freely.
import type { Resource } from '../model/attributes.js';

/** Language runtime of a process, as detected from its executable, mapped libraries or Go build info. */
export type RuntimeName = 'go' | 'java' | 'python' | 'nodejs' | 'dotnet' | 'ruby' | 'php' | 'unknown';

/** A listening socket of a process. */
export interface ListeningPort {
  readonly port: number;
  readonly protocol: 'tcp' | 'udp';
}

/** What discovery knows about one running process. Immutable snapshot; a rescan replaces it. */
export interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  /** Kernel's short name (comm, ≤15 chars; may contain spaces, parentheses, anything). */
  readonly comm: string;
  /** Resolved /proc/<pid>/exe target ('' when unreadable, e.g. kernel threads). */
  readonly exePath: string;
  /** Basename of exePath, else comm. */
  readonly exeName: string;
  /** argv as the process set it (NUL-separated in /proc; bounded in length). */
  readonly cmdline: readonly string[];
  readonly uid: number;
  /** User name from /etc/passwd, else the numeric uid as a string. */
  readonly user: string;
  /** Process start time, Unix epoch milliseconds. */
  readonly startTimeMs: number;
  /** Listening TCP/UDP ports (sorted, unique). */
  readonly ports: readonly ListeningPort[];
  readonly runtime: RuntimeName;
  /** Runtime version when cheaply known (Go build info's go version), else ''. */
  readonly runtimeVersion: string;
  /** 64-hex container id from /proc/<pid>/cgroup, or '' when not in a container. */
  readonly containerId: string;
  /** Service name: OTEL_SERVICE_NAME from the environment, else container name (later), else exeName. */
  readonly serviceName: string;
  /** Service namespace: OTEL_SERVICE_NAMESPACE / k8s namespace (later), else ''. */
  readonly serviceNamespace: string;
}

/** A change in the catalog: a process appeared (or changed, e.g. exec'd or opened a port) or went away. */
export type CatalogChange =
  | { readonly type: 'added' | 'updated'; readonly pid: number; readonly info: ProcessInfo }
  | { readonly type: 'removed'; readonly pid: number };

/**
 * The process catalog every tracer consults. `shouldInstrument` applies the ONE implementation of the
 * `discovery.instrument` / `discovery.exclude` rules (exclude wins; an empty instrument list selects every
 * process but Telegen itself). Unknown pids are not instrumented until a scan or an exec event has seen them.
 */
export interface ProcessCatalog {
  /** The latest snapshot of a process, or undefined when unknown (not yet scanned, gone, or over the cap). */
  get(pid: number): ProcessInfo | undefined;
  /** Whether tracers should instrument this pid under the current rules. */
  shouldInstrument(pid: number): boolean;
  /**
   * OTel resource attributes for signals of this process: the host resource (host.name, os.*) overlaid with
   * service.name, service.namespace (when set), process.pid, process.parent_pid, process.executable.name,
   * process.executable.path, process.command_line, process.owner, process.runtime.name, container.id (when set).
   * For an unknown pid: the host resource with process.pid only.
   */
  resourceFor(pid: number): Resource;
  /** Be told of every change (after each scan and each exec/exit event). Returns an unsubscribe function. */
  onChange(cb: (change: CatalogChange) => void): () => void;
}

/** A process lifecycle event (from the eBPF core's sched_process_exec/exit and inet_sock_set_state tracepoints). */
export interface ProcessEvent {
  /** listen: a TCP socket of the process entered LISTEN. */
  readonly type: 'exec' | 'exit' | 'listen';
  readonly pid: number;
  readonly ppid: number;
  readonly comm: string;
}

/** Where discovery gets exec/exit events from, when the eBPF core runs (wired by the composition root). */
export interface ProcessEventSource {
  subscribeProcessEvents(cb: (e: ProcessEvent) => void): () => void;
  /**
   * Whether events are being produced now (the eBPF core runs with its process programs attached). When true,
   * exec/exit/listen keep the catalog current and the periodic rescan runs every scan_interval_with_events even
   * while the host is quiet; without it, only events seen recently stretch the interval.
   */
  processEventsActive?(): boolean;
}
