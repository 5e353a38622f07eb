// The HTTP tracing subsystem: loads bpf/http.bpf.o through the eBPF core, keeps the kernel pid filter in step
// with discovery, turns capture events into spans (pushed on the traces road) and RED histograms (pushed every
// metrics_interval on the metrics road). It owns no rules and no ring buffer: those are discovery's and the core's.
import { failed, type Health, type Subsystem, type SubsystemContext } from '../agent/subsystem.js';
import type { TelegenConfig } from '../config/schema.js';
import { parseDuration } from '../config/types.js';
import type { ProcessCatalog } from '../discovery/catalog.js';
import { EventKind, bpfObjectPath, type BpfMap, type BpfObjectHandle, type EbpfCore, type EventBatch } from '../ebpf/core.js';
import { u32 } from '../ebpf/map-codec.js';
import type { Span } from '../model/span.js';
import { MonotonicClock } from './clock.js';
import { HttpEventReader } from './http-event.js';
import { HttpProcessor, type DropReason } from './http-processor.js';
import { PidFilter } from './pid-filter.js';
import { RedMetrics } from './red-metrics.js';
import { ShedStats } from './shed-stats.js';
import { ExistingConnections } from './existing-connections.js';
import { OverloadGuard, SuspensionBackoff, type OverloadCause, type OverloadSample } from './overload-guard.js';
import { readdirSync } from 'node:fs';

/** Every program of bpf/http.bpf.c; `trace_http_request` is the egress (write) exit. */
export const HTTP_PROGRAMS = [
  'trace_http_accept', 'trace_http_accept4', 'trace_http_connect_enter', 'trace_http_connect', 'trace_http_close',
  'trace_http_read_enter', 'trace_http_read', 'trace_http_recvfrom_enter', 'trace_http_recvfrom',
  'trace_http_readv_enter', 'trace_http_readv', 'trace_http_recvmsg_enter', 'trace_http_recvmsg',
  'trace_http_write_enter', 'trace_http_request', 'trace_http_sendto_enter', 'trace_http_sendto',
  'trace_http_writev_enter', 'trace_http_writev', 'trace_http_sendmsg_enter', 'trace_http_sendmsg',
  'trace_http_sendfile_enter', 'trace_http_sendfile',
] as const;

const SWEEP_INTERVAL_MS = 1000;
/**
 * The first overload check after capture attaches comes this soon, not a sweep later: after a resume the overload
 * that suspended capture is usually still there, and until the check fires the workload pays for full capture.
 * Long enough for /proc/stat's 10 ms ticks and the per-CPU shed counters to mean something.
 */
const FIRST_OVERLOAD_CHECK_MS = 250;
/**
 * Batches are held until agent.ebpf.http.batch_delay passed (or this many events / bytes wait), then processed
 * together: the per-request cost depends on the burst size far more than on the rate, because each burst first
 * warms the CPU caches (code, connection state) the traced workload evicted meanwhile. Measured in the running
 * agent, nginx at 1k req/s (bench/lib/http-tracing-profile.mjs): one burst per 200 ms delivery ~14 µs of agent
 * CPU per request, one per second ~9 µs. Memory stays bounded by the two caps.
 */
const COALESCE_EVENTS = 4096;
const COALESCE_BYTES = 4 << 20;
/**
 * Spans go to the sink in runs of this many while a burst is processed, not all at its end: a burst of 4096
 * events builds ~2,000 spans, and held to the end they are live at every scavenge that lands inside the burst,
 * so they are copied, then promoted, and the old generation fills with them (measured at 6k req/s, `--trace-gc`:
 * scavenges 2–6 ms → ~0.5 ms, a mark-compact every ~1.1 s → every ~1.8 s).
 */
const SPAN_PUSH_CHUNK = 256;

export interface HttpTracerDeps {
  ebpf: EbpfCore;
  catalog: ProcessCatalog;
}

export interface HttpTracer extends Subsystem {
  /** Every span as it is built, before the pipeline (tests, future service graph). Returns unsubscribe. */
  onSpan(cb: (span: Span) => void): () => void;
  /** Push the RED histograms now (also done every metrics_interval). */
  pushMetrics(): void;
}

export function createHttpTracer(ctx: SubsystemContext, deps: HttpTracerDeps): HttpTracer {
  return new HttpTracerImpl(ctx, deps);
}

class HttpTracerImpl implements HttpTracer {
  readonly name = 'http';
  readonly dependsOn = ['ebpf', 'discovery', 'export'] as const;
  private config: TelegenConfig;
  private handle?: BpfObjectHandle;
  private pidFilter?: PidFilter;
  private unsubscribe?: () => void;
  private unsubscribeCatalog?: () => void;
  private sweepTimer?: NodeJS.Timeout;
  private metricsTimer?: NodeJS.Timeout;
  private failure = '';
  private readonly clock = new MonotonicClock();
  private batchDelayMs: number;
  private readonly red: RedMetrics;
  private readonly processor: HttpProcessor;
  private readonly listeners = new Set<(s: Span) => void>();
  /** One decoder re-pointed at every record (no allocation per event). */
  private readonly reader = new HttpEventReader();
  private batch: Span[] = [];
  private pending: EventBatch[] = [];
  private pendingEvents = 0;
  private pendingBytes = 0;
  private coalesceTimer?: NodeJS.Timeout;
  /** Requests counted per batch, added to telegen_http_requests_total once per batch (a labelled inc costs ~µs). */
  private serverCount = 0;
  private clientCount = 0;
  private readonly drops = new Map<string, number>();
  private malformed = 0;
  private readonly shed = new ShedStats();
  private existing?: ExistingConnections;
  /** Connections adopted over the tracer's life (open before tracing began). */
  private readonly adoptTotals = { adopted: 0, known: 0, failed: 0 };
  private readonly guard = new OverloadGuard();
  private readonly backoff = new SuspensionBackoff();
  private firstCheckTimer?: NodeJS.Timeout;
  /** http_paused: set while suspended, so the programs capture nothing while they are being detached. */
  private pausedMap?: BpfMap;
  /** The programs' background detach at the last suspension: they are attached again only once it is done. */
  private detaching: Promise<void> = Promise.resolve();
  /** Set while capture is suspended (agent.ebpf.http.overload): when it began, and what tipped it. */
  private suspended?: { sinceMs: number; forMs: number; cause: OverloadCause };
  /** Why the latest suspension happened (kept after it ends, for the status). */
  private lastCause?: OverloadCause;
  private resumeTimer?: NodeJS.Timeout;
  private readonly overloadTotals = { suspensions: 0, suspendedMs: 0 };

  constructor(private readonly ctx: SubsystemContext, private readonly deps: HttpTracerDeps) {
    this.config = ctx.config;
    const http = this.config.agent.ebpf.http;
    this.batchDelayMs = parseDuration(http.batch_delay);
    this.red = new RedMetrics(http.max_metric_series);
    this.processor = new HttpProcessor({
      keepQuery: http.keep_query, routePatterns: http.route_patterns, maxConnections: http.max_connections,
      toWall: (ns) => this.clock.toWall(ns),
      resourceFor: (pid) => this.deps.catalog.resourceFor(pid),
      onSpan: (b, kind, seconds) => {
        this.batch.push(b.span);
        if (kind === 'server') this.serverCount++;
        else this.clientCount++;
        if (!this.red.record(kind, b.span.resource, b.method, b.status, b.route, seconds, b.span.endTimeUnixNano, this.processor.now)) this.drop('metric_series_limit');
        for (const l of this.listeners) l(b.span);
        if (this.batch.length >= SPAN_PUSH_CHUNK) this.flushSpans();
      },
      onDrop: (r: DropReason) => this.drop(r),
    });
    ctx.metrics.onCollect(() => {
      ctx.metrics.httpConnections.set(this.processor.connectionCount);
      this.pollShed();
    });
  }

  private wanted(c: TelegenConfig): boolean {
    return c.mode === 'agent' && c.agent.ebpf.enabled && c.agent.ebpf.http.enabled;
  }

  async start(): Promise<void> {
    if (this.handle || !this.wanted(this.config)) return;
    if (!this.deps.ebpf.running()) {
      this.failure = `eBPF core not running (${this.deps.ebpf.health()})`;
      this.ctx.logger.warn({ reason: this.failure }, 'HTTP tracing not started');
      return;
    }
    const http = this.config.agent.ebpf.http;
    this.unsubscribe = this.deps.ebpf.subscribe(EventKind.HTTP, (b) => this.onBatch(b));
    try {
      const handle = this.deps.ebpf.loadObject({
        name: 'http', objectFile: bpfObjectPath('http'),
        rodata: { capture_bytes: http.capture_bytes, shed_bytes: shedBytes(this.config), exchanges_per_cpu: http.max_exchanges_per_cpu },
        maxEntries: { http_conns: http.max_connections },
      });
      this.handle = handle;
      this.shed.attach(handle.map('http_shed_stats'));
      this.pausedMap = handle.map('http_paused');
      // Filter first, then attach: no event is produced before the agent itself is excluded.
      this.existing = new ExistingConnections(handle.map('http_conns'));
      this.pidFilter = new PidFilter(handle.map('http_pid_filter'), handle.map('http_settings'), this.deps.catalog,
        process.pid, () => this.drop('pid_filter_full'), (pid) => this.adopt([pid]));
      this.pidFilter.start(this.config.discovery.instrument.length === 0);
      this.backoff.reset();
      this.attachCapture();
    } catch (e) {
      this.failure = (e as Error).message;
      this.teardown();
      throw e;
    }
    this.failure = '';
    this.unsubscribeCatalog = this.deps.catalog.onChange((c) => this.processor.forgetResource(c.pid));
    this.sweepTimer = setInterval(() => {
      this.processor.sweep();
      this.checkOverload();
    }, SWEEP_INTERVAL_MS).unref();
    this.metricsTimer = setInterval(() => this.pushMetrics(), parseDuration(http.metrics_interval)).unref();
    this.ctx.logger.info({ programs: HTTP_PROGRAMS.length, capture_bytes: http.capture_bytes }, 'HTTP tracer attached');
  }

  async stop(): Promise<void> {
    const handle = this.handle;
    if (!handle) return;
    await this.detaching;
    await handle.detachInBackground(HTTP_PROGRAMS); // the kernel's grace periods, not on the event loop
    if (this.handle !== handle) return; // stopped meanwhile
    this.teardown();
    this.finishInFlight();
    this.pushMetrics();
  }

  /**
   * /admin/flush: what the kernel ring holds (up to delivery_latency) and the batches awaiting their burst (up to
   * batch_delay) are processed now, and the spans of finished exchanges pushed. Exchanges still open stay open.
   */
  async flushHeld(): Promise<void> {
    if (!this.handle) return;
    await this.deps.ebpf.flushEvents();
    this.drain();
  }

  /** After a detach: process what was delivered before it, end what is in flight (inferred responses emitted). */
  private finishInFlight(): void {
    this.drain();
    this.processor.closeAll();
    this.flushSpans();
  }

  private teardown(): void {
    clearInterval(this.sweepTimer);
    clearInterval(this.metricsTimer);
    clearTimeout(this.firstCheckTimer);
    this.endSuspension();
    this.pidFilter?.stop();
    this.pidFilter = undefined;
    this.existing = undefined;
    this.pausedMap = undefined;
    this.pollShed();
    this.shed.detach();
    this.unsubscribeCatalog?.();
    this.unsubscribeCatalog = undefined;
    this.handle?.close();
    this.handle = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  async reload(config: TelegenConfig): Promise<void> {
    const previous = this.config;
    const before = previous.agent.ebpf.http;
    this.config = config;
    const http = config.agent.ebpf.http;
    this.batchDelayMs = parseDuration(http.batch_delay);
    this.processor.reconfigure({ keepQuery: http.keep_query, routePatterns: http.route_patterns, maxConnections: http.max_connections });
    this.red.setMaxSeries(http.max_metric_series);
    // capture_bytes and map sizes are load-time constants: reload the object when they change.
    const reloadObject = before.capture_bytes !== http.capture_bytes || before.max_connections !== http.max_connections
      || before.metrics_interval !== http.metrics_interval || shedBytes(previous) !== shedBytes(config)
      || before.max_exchanges_per_cpu !== http.max_exchanges_per_cpu;
    if (!this.wanted(config) || reloadObject) await this.stop();
    if (this.wanted(config)) await this.start();
    if (!http.overload.enabled) {
      if (this.suspended) await this.resume();
      this.backoff.reset();
    }
    if (this.pidFilter) {
      this.pidFilter.setDefault(config.discovery.instrument.length === 0);
      this.adoptAll(); // processes the new rules select may have connections open already
    }
  }

  /**
   * Attach every program, then adopt what was open before: a connection accepted from now on is registered by
   * the kernel, one opened before is adopted here (NOEXIST: whichever comes first wins, none is registered twice).
   */
  private attachCapture(): void {
    const handle = this.handle!;
    for (const p of HTTP_PROGRAMS) handle.attach(p);
    this.adoptAll();
    this.guard.baseline(this.overloadSample());
    clearTimeout(this.firstCheckTimer);
    this.firstCheckTimer = setTimeout(() => this.checkOverload(), FIRST_OVERLOAD_CHECK_MS).unref();
  }

  private overloadSample(): OverloadSample {
    const cpu = process.cpuUsage();
    return { shedPerCpu: this.shed.perCpuExchanges(), agentCpuUs: cpu.user + cpu.system, events: this.processor.stats.events, atMs: performance.now() };
  }

  /**
   * Once a second while capturing: detach every program when a CPU sheds while saturated or the agent is over
   * its CPU bound (agent.ebpf.http.overload, src/tracing/overload-guard.ts); resume() brings them back.
   */
  private checkOverload(): void {
    const o = this.config.agent.ebpf.http.overload;
    if (!this.handle || this.suspended) return;
    const cause = this.guard.check(this.overloadSample(), { maxAgentCpuPercent: o.max_agent_cpu_percent, saturatedCpuPercent: o.saturated_cpu_percent });
    if (!cause || !o.enabled) return;
    const forMs = this.backoff.next(performance.now(), parseDuration(o.suspend_for), parseDuration(o.max_suspend_for));
    // Capture stops now; the programs leave in the background (each takes a kernel grace period, ~1.6 s for all).
    this.pausedMap?.update(u32(0), u32(1));
    this.detaching = this.handle.detachInBackground(HTTP_PROGRAMS).catch((e: Error) =>
      this.ctx.logger.warn({ err: e.message }, 'HTTP tracer: detaching its programs failed'));
    this.suspended = { sinceMs: Date.now(), forMs, cause };
    this.lastCause = cause;
    this.overloadTotals.suspensions++;
    this.ctx.metrics.httpCaptureSuspensions.inc({ reason: cause.reason });
    this.ctx.metrics.httpCaptureSuspended.set(1);
    this.resumeTimer = setTimeout(() => void this.resume(), forMs).unref();
    this.ctx.logger.warn({ ...causeStatus(cause), suspended_for_seconds: forMs / 1000 }, cause.reason === 'agent_cpu'
      ? 'HTTP capture suspended: the agent used more than agent.ebpf.http.overload.max_agent_cpu_percent of a busy host\'s CPU; its programs are detached so the workload gets the CPU back'
      : 'HTTP capture suspended: a CPU is saturated and the kernel is shedding exchanges; its programs are detached so the workload gets the CPU back');
  }

  /**
   * Capture comes back after a suspension. The streams of every connection have a hole, and closes were not
   * seen: what was in flight ends as at a stop (inferred responses emitted, the rest abandoned), the kernel's
   * connection table is emptied, and the programs attach again with open connections adopted (parsed from
   * their next message, as at start).
   */
  private async resume(): Promise<void> {
    if (!this.handle || !this.suspended) return;
    await this.detaching; // attached again only once the kernel let go of them: each then runs once
    if (!this.handle || !this.suspended) return;
    this.endSuspension();
    this.finishInFlight();
    this.existing?.forgetAll();
    this.pausedMap?.update(u32(0), u32(0));
    this.attachCapture();
    this.backoff.resumed(performance.now());
    this.ctx.logger.info({ suspensions: this.overloadTotals.suspensions }, 'HTTP capture resumed');
  }

  /** Account for a suspension in progress (resume, stop) and cancel its timer. */
  private endSuspension(): void {
    clearTimeout(this.resumeTimer);
    this.resumeTimer = undefined;
    if (!this.suspended) return;
    const ms = Date.now() - this.suspended.sinceMs;
    this.overloadTotals.suspendedMs += ms;
    this.ctx.metrics.httpCaptureSuspendedSeconds.inc(ms / 1000);
    this.ctx.metrics.httpCaptureSuspended.set(0);
    this.suspended = undefined;
  }

  /** Adopt the open connections of every traced process (tracer start, selection rules changed). */
  private adoptAll(): void {
    const filter = this.pidFilter;
    if (!filter) return;
    const pids: number[] = [];
    for (const name of safeReaddir('/proc')) {
      const pid = Number(name);
      if (Number.isInteger(pid) && pid > 0 && filter.traced(pid)) pids.push(pid);
    }
    this.adopt(pids);
  }

  private adopt(pids: number[]): void {
    if (!this.existing) return;
    const t0 = performance.now();
    const r = this.existing.adopt(pids);
    this.adoptTotals.adopted += r.adopted;
    this.adoptTotals.known += r.known;
    this.adoptTotals.failed += r.failed;
    if (r.failed) this.drop('adopt_failed', r.failed);
    if (r.adopted || r.failed) {
      this.ctx.logger.info({ ...r, processes: pids.length, ms: Math.round(performance.now() - t0) }, 'HTTP tracer adopted connections opened before it');
    }
  }

  health(): Health {
    if (!this.wanted(this.config)) return 'disabled';
    if (this.failure) return failed(this.failure);
    return this.handle ? 'ok' : 'disabled';
  }

  status(): unknown {
    const p = this.processor.stats;
    return {
      enabled: this.handle !== undefined,
      capture_bytes: this.config.agent.ebpf.http.capture_bytes,
      connections: this.processor.connectionCount,
      events: p.events,
      spans: { server: p.server, client: p.client },
      metric_series: this.red.size,
      pid_filter_entries: this.pidFilter?.size ?? 0,
      // Kernel-side shedding while the ring was behind (also in dropped.shed, in exchanges).
      shed: this.pollShed(),
      // Connections open before tracing began, found in /proc and registered (parsed from their next message).
      existing_connections: { ...this.adoptTotals },
      // agent.ebpf.http.overload: capture suspended while it costs the host too much (last_cause says why).
      overload: {
        enabled: this.config.agent.ebpf.http.overload.enabled,
        state: this.suspended ? 'suspended' : 'capturing',
        suspensions: this.overloadTotals.suspensions,
        suspended_seconds: Math.round((this.overloadTotals.suspendedMs + (this.suspended ? Date.now() - this.suspended.sinceMs : 0)) / 100) / 10,
        // The current suspension's length (suspend_for, doubled while the overload persists).
        ...(this.suspended ? { suspension_seconds: this.suspended.forMs / 1000 } : {}),
        ...(this.lastCause ? { last_cause: causeStatus(this.lastCause) } : {}),
      },
      dropped: Object.fromEntries(this.drops),
      ...(this.failure ? { error: this.failure } : {}),
    };
  }

  onSpan(cb: (span: Span) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  pushMetrics(): void {
    this.clock.refresh();
    const metrics = this.red.collect(this.clock.toWall(process.hrtime.bigint()));
    if (metrics.length) this.ctx.sink.push('metrics', metrics);
  }

  private onBatch(b: EventBatch): void {
    this.pending.push(b);
    this.pendingEvents += b.offsets.length;
    this.pendingBytes += b.buf.length;
    if (this.pendingEvents >= COALESCE_EVENTS || this.pendingBytes >= COALESCE_BYTES) this.drain();
    else this.coalesceTimer ??= setTimeout(() => this.drain(), this.batchDelayMs).unref();
  }

  /** Process every batch held, in order. */
  private drain(): void {
    clearTimeout(this.coalesceTimer);
    this.coalesceTimer = undefined;
    const batches = this.pending;
    this.pending = [];
    this.pendingEvents = 0;
    this.pendingBytes = 0;
    // One clock read per burst for the per-connection activity times (idle expiry works in seconds).
    this.processor.now = Date.now();
    this.clock.refresh(this.processor.now);
    for (const b of batches) this.process(b);
    this.flushSpans();
  }

  private process(b: EventBatch): void {
    const e = this.reader;
    for (const off of b.offsets) {
      if (!e.read(b.buf, off)) {
        this.malformed++;
        this.drop('malformed_event');
        continue;
      }
      try {
        this.processor.handle(e);
      } catch (err) {
        // Never let one connection's bytes stop the tracer; a parser bug shows up as a counted drop.
        this.drop('parser_error');
        this.ctx.logger.debug({ err: (err as Error).message }, 'HTTP parser error');
      }
    }
  }

  private flushSpans(): void {
    if (this.serverCount) this.ctx.metrics.httpRequests.inc({ kind: 'server' }, this.serverCount);
    if (this.clientCount) this.ctx.metrics.httpRequests.inc({ kind: 'client' }, this.clientCount);
    this.serverCount = this.clientCount = 0;
    if (this.batch.length === 0) return;
    const spans = this.batch;
    this.batch = [];
    this.ctx.sink.push('traces', spans);
  }

  /** Fold the kernel's shedding counters into telegen_http_dropped_total{reason="shed"}; returns the totals. */
  private pollShed(): { exchanges: number; syscalls: number } {
    const { totals, newExchanges } = this.shed.poll();
    if (newExchanges > 0) this.drop('shed', newExchanges);
    return totals;
  }

  private drop(reason: string, n = 1): void {
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + n);
    this.ctx.metrics.httpDropped.inc({ reason }, n);
  }
}

/** An overload cause as the log and the status show it (snake_case, rounded). */
function causeStatus(c: OverloadCause): Record<string, string | number> {
  return c.reason === 'agent_cpu'
    ? { reason: c.reason, agent_cpu_percent: Math.round(c.agentCpuPercent * 10) / 10, host_busy_percent: Math.round(c.hostBusyPercent) }
    : { reason: c.reason, cpu: c.cpu, busy_percent: Math.round(c.busyPercent), shed: c.shed };
}

/** The ring backlog (bytes) above which the kernel sheds new exchanges; 0 (never) at 100%. */
function shedBytes(c: TelegenConfig): number {
  const pct = c.agent.ebpf.http.shed_backlog_percent;
  return pct >= 100 ? 0 : Math.floor((c.agent.ebpf.ringbuf_size * pct) / 100);
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
