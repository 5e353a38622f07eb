// The `discovery` subsystem: periodic /proc scans (plus exec/exit events when the eBPF core runs) feed the
// process catalog every tracer consults, and /status/discovery.
import type { TelegenConfig } from '../config/schema.js';
import { parseDuration } from '../config/types.js';
import type { Attributes, Resource } from '../model/attributes.js';
import { failed, type Health, type Subsystem, type SubsystemContext } from '../agent/subsystem.js';
import type { CatalogChange, ProcessCatalog, ProcessEvent, ProcessEventSource, ProcessInfo } from './catalog.js';
import { ProcScanner } from './scanner.js';
import { SelectionRules } from './selectors.js';
import { groupServices, type DiscoveredService } from './services.js';

/** How long after an exec event the process is read again (for the ports it has opened by then). */
const RECHECK_MS = 2000;
/**
 * How long after a LISTEN event the process is read again: the socket is listening already, and a process selected
 * by `open_ports` should be traced before its first clients connect; the short wait groups a burst of listeners
 * (a server opening several ports) into one socket-table read.
 */
const LISTEN_RECHECK_MS = 50;

export interface DiscoveryOptions {
  /** exec/exit events from the eBPF core (wired by the composition root when it runs). */
  processEvents?: ProcessEventSource;
  /** For tests: a fake proc root and passwd file. */
  procRoot?: string;
  passwdPath?: string;
  /** Processes read in parallel during a scan. */
  concurrency?: number;
}

export interface DiscoveryStatus {
  kubernetes: { enabled: boolean; connected: boolean; cluster: string | null; namespace: string | null; pods_watched: number; services_watched: number };
  docker: { enabled: boolean; connected: boolean; containers: number };
  cloud: { provider: string | null; region: string | null; instance_id: string | null };
  discovered_services: DiscoveredService[];
}

export type Discovery = Omit<Subsystem, 'status'> & ProcessCatalog & {
  /** Run one scan now (tests, and the first scan at start). */
  scanNow(): Promise<void>;
  /** Every tracked process (a snapshot). */
  processes(): ProcessInfo[];
  status(): DiscoveryStatus;
};

export function createDiscovery(ctx: SubsystemContext, opts: DiscoveryOptions = {}): Discovery {
  return new DiscoverySubsystem(ctx, opts);
}

class DiscoverySubsystem implements Discovery {
  readonly name = 'discovery';
  readonly readinessCheck = 'discovery';
  private config: TelegenConfig;
  private rules: SelectionRules;
  private readonly scanner: ProcScanner;
  private procs = new Map<number, ProcessInfo>();
  private readonly listeners = new Set<(c: CatalogChange) => void>();
  private timer?: NodeJS.Timeout;
  private unsubscribe?: () => void;
  private scanning?: Promise<void>;
  private lastError?: string;
  private scannedOnce = false;
  private running = false;
  private readonly pendingExec = new Set<number>();
  /** Exec'd processes to read once more (for the ports they open after exec), bounded by max_processes. */
  private readonly recheck = new Set<number>();
  private recheckTimer?: NodeJS.Timeout;
  private recheckDue = 0;
  private lastProcessEventAt = 0;

  constructor(private readonly ctx: SubsystemContext, private readonly opts: DiscoveryOptions) {
    this.config = ctx.config;
    this.rules = new SelectionRules(ctx.config.discovery.instrument, ctx.config.discovery.exclude);
    this.scanner = new ProcScanner({
      procRoot: opts.procRoot ?? '/proc',
      passwdPath: opts.passwdPath ?? '/etc/passwd',
      maxProcesses: ctx.config.discovery.max_processes,
      concurrency: opts.concurrency ?? 16,
    });
    ctx.metrics.onCollect(() => ctx.metrics.discoveryProcesses.set(this.procs.size));
  }

  private get enabled(): boolean {
    return this.config.mode !== 'collector';
  }

  async start(): Promise<void> {
    if (!this.enabled || this.running) return;
    this.running = true;
    await this.scanNow();
    this.schedule();
    this.unsubscribe = this.opts.processEvents?.subscribeProcessEvents((e) => this.onProcessEvent(e));
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    clearTimeout(this.recheckTimer);
    this.recheckTimer = undefined;
    this.recheck.clear();
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.scanning?.catch(() => undefined);
  }

  async reload(config: TelegenConfig): Promise<void> {
    const wasEnabled = this.enabled;
    this.config = config;
    this.rules = new SelectionRules(config.discovery.instrument, config.discovery.exclude);
    this.scanner.setMaxProcesses(config.discovery.max_processes);
    if (wasEnabled && !this.enabled) await this.stop();
    else if (!wasEnabled && this.enabled) await this.start();
    else if (this.running) this.schedule();
  }

  health(): Health {
    if (!this.enabled) return 'disabled';
    if (this.lastError) return failed(this.lastError);
    return this.scannedOnce ? 'ok' : failed('no scan completed yet');
  }

  status(): DiscoveryStatus {
    return {
      kubernetes: { enabled: false, connected: false, cluster: null, namespace: null, pods_watched: 0, services_watched: 0 },
      docker: { enabled: false, connected: false, containers: 0 },
      cloud: { provider: null, region: null, instance_id: null },
      discovered_services: this.enabled ? groupServices(this.procs.values(), (p) => this.serviceName(p)) : [],
    };
  }

  // ---- ProcessCatalog ----

  get(pid: number): ProcessInfo | undefined {
    return this.procs.get(pid);
  }

  shouldInstrument(pid: number): boolean {
    const p = this.procs.get(pid);
    return p !== undefined && this.rules.shouldInstrument(p);
  }

  resourceFor(pid: number): Resource {
    const p = this.procs.get(pid);
    const attributes: Attributes = { ...this.ctx.resource.attributes, 'process.pid': pid };
    if (!p) return { attributes };
    attributes['service.name'] = this.serviceName(p);
    if (p.serviceNamespace) attributes['service.namespace'] = p.serviceNamespace;
    else delete attributes['service.namespace'];
    attributes['process.parent_pid'] = p.ppid;
    attributes['process.executable.name'] = p.exeName;
    if (p.exePath) attributes['process.executable.path'] = p.exePath;
    if (p.cmdline.length) attributes['process.command_line'] = p.cmdline.join(' ');
    if (p.user) attributes['process.owner'] = p.user;
    if (p.runtime !== 'unknown') attributes['process.runtime.name'] = p.runtime;
    if (p.runtimeVersion) attributes['process.runtime.version'] = p.runtimeVersion;
    if (p.containerId) attributes['container.id'] = p.containerId;
    return { attributes };
  }

  onChange(cb: (change: CatalogChange) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  // ---- scanning ----

  processes(): ProcessInfo[] {
    return [...this.procs.values()];
  }

  scanNow(): Promise<void> {
    // One scan at a time: a tick that arrives during a slow scan joins it instead of piling up.
    this.scanning ??= this.runScan().finally(() => { this.scanning = undefined; });
    return this.scanning;
  }

  /** OTEL_SERVICE_NAME (the owner's word) > an instrument selector's `name` > container name (later) > executable. */
  private serviceName(p: ProcessInfo): string {
    if (p.serviceName !== p.exeName) return p.serviceName;
    return this.rules.nameFor(p) ?? p.serviceName;
  }

  /**
   * The next periodic rescan: every scan_interval, or every scan_interval_with_events while process events
   * flow (the eBPF core says its exec/exit/listen programs run, or one arrived within that longer interval) —
   * they already keep the catalog current, new listeners included; the rescan is there for what changes without
   * an event (uid) and for missed events. On a quiet host this is one rescan a minute instead of six.
   */
  private schedule(): void {
    clearTimeout(this.timer);
    const base = Math.max(100, parseDuration(this.config.discovery.scan_interval));
    const withEvents = Math.max(base, parseDuration(this.config.discovery.scan_interval_with_events));
    const flowing = this.opts.processEvents !== undefined && (this.listenEventsLive() || Date.now() - this.lastProcessEventAt < withEvents);
    this.timer = setTimeout(() => {
      void this.scanNow().then(() => { if (this.running) this.schedule(); });
    }, flowing ? withEvents : base).unref();
  }

  /** The eBPF core reports exec, exit and listen now: new listeners arrive as events, no need to look for them. */
  private listenEventsLive(): boolean {
    return this.opts.processEvents?.processEventsActive?.() === true;
  }

  /** Read processes once more `delayMs` later: after exec (servers bind then) or after a LISTEN event. */
  private scheduleRecheck(pid: number, delayMs: number): void {
    if (this.recheck.size >= this.config.discovery.max_processes) return; // the next rescan reads it anyway
    this.recheck.add(pid);
    // One timer for every pending pid: a sooner request (a LISTEN while exec rechecks wait) brings it forward.
    const due = Date.now() + delayMs;
    if (this.recheckTimer && due >= this.recheckDue) return;
    clearTimeout(this.recheckTimer);
    this.recheckDue = due;
    this.recheckTimer = setTimeout(() => {
      this.recheckTimer = undefined;
      // Most exec'd processes of a busy host are gone by now: no socket-table read (~1.4 ms) for them.
      const pids = [...this.recheck].filter((p) => this.procs.has(p));
      this.recheck.clear();
      if (pids.length === 0) return;
      this.scanner.freshTables(); // one table read for the whole batch, current enough to show new listeners
      for (const p of pids) {
        void this.scanner.scanOne(p).then((info) => {
          const old = this.procs.get(p);
          if (!info || !old || !this.running || old.startTimeMs !== info.startTimeMs) return;
          this.procs.set(p, info);
          if (changed(old, info)) this.emit({ type: 'updated', pid: p, info });
        });
      }
    }, delayMs).unref();
  }

  private async runScan(): Promise<void> {
    const stopTimer = this.ctx.metrics.discoveryScanDuration.startTimer();
    try {
      const r = await this.scanner.scan();
      if (r.processes.size === 0) throw new Error(`no process readable under ${this.opts.procRoot ?? '/proc'}`);
      const before = this.procs;
      this.procs = r.processes;
      if (r.dropped) this.ctx.metrics.discoveryProcessesDropped.inc(r.dropped);
      this.scannedOnce = true;
      this.lastError = undefined;
      this.emitDiff(before, r.processes);
    } catch (e) {
      this.lastError = `scan failed: ${(e as Error).message}`;
      this.ctx.logger.warn({ err: (e as Error).message }, 'discovery scan failed');
    } finally {
      stopTimer();
    }
  }

  private emitDiff(before: Map<number, ProcessInfo>, after: Map<number, ProcessInfo>): void {
    if (this.listeners.size === 0) return;
    for (const [pid, info] of after) {
      const old = before.get(pid);
      if (!old) this.emit({ type: 'added', pid, info });
      else if (changed(old, info)) this.emit({ type: 'updated', pid, info });
    }
    for (const pid of before.keys()) if (!after.has(pid)) this.emit({ type: 'removed', pid });
  }

  private emit(c: CatalogChange): void {
    for (const cb of this.listeners) {
      try {
        cb(c);
      } catch (e) {
        this.ctx.logger.warn({ err: (e as Error).message }, 'discovery change listener threw');
      }
    }
  }

  private onProcessEvent(e: ProcessEvent): void {
    if (!this.running) return;
    this.lastProcessEventAt = Date.now();
    if (e.type === 'exit') {
      this.pendingExec.delete(e.pid);
      if (this.procs.delete(e.pid)) {
        this.scanner.forget(e.pid);
        this.emit({ type: 'removed', pid: e.pid });
      }
      return;
    }
    // listen: the process opened a listener — read it again shortly (socket tables fresh) for its ports. One
    // exec'd a moment ago is read by then too (the recheck only updates processes already known).
    if (e.type === 'listen') {
      this.scheduleRecheck(e.pid, LISTEN_RECHECK_MS);
      return;
    }
    // exec: read the process at once (bounded: at most max_processes pending reads).
    if (this.pendingExec.has(e.pid)) return;
    if (this.pendingExec.size >= this.config.discovery.max_processes) {
      this.ctx.metrics.discoveryProcessesDropped.inc();
      return;
    }
    this.pendingExec.add(e.pid);
    void this.scanner.scanOne(e.pid).then((info) => {
      if (!this.pendingExec.delete(e.pid) || !info || !this.running) return;
      if (!this.procs.has(e.pid) && this.procs.size >= this.config.discovery.max_processes) {
        this.ctx.metrics.discoveryProcessesDropped.inc();
        return;
      }
      const old = this.procs.get(e.pid);
      this.procs.set(e.pid, info);
      this.emit({ type: old ? 'updated' : 'added', pid: e.pid, info });
      // Servers bind after exec: without listen events, read it again later for the ports it opened by then.
      if (!this.listenEventsLive()) this.scheduleRecheck(e.pid, RECHECK_MS);
    });
  }
}

function changed(a: ProcessInfo, b: ProcessInfo): boolean {
  return a.exePath !== b.exePath || a.startTimeMs !== b.startTimeMs || a.serviceName !== b.serviceName
    || a.ports.length !== b.ports.length || a.ports.some((p, i) => p.port !== b.ports[i]!.port || p.protocol !== b.ports[i]!.protocol);
}
