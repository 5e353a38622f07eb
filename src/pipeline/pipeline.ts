// The export pipeline: the one road every signal travels. push → per-signal bounded queue → batch (batch_size
// or flush_interval) → destinations: OTLP (encoded once, stored in the persistent queue, sent by a lane
// through retry → timeout → transport), the file exporter (OTLP/JSON lines) and Prometheus remote write
// (metrics). It answers /status/export, the `otlp` readiness check and /admin/flush.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { ExportPipeline, Health, SubsystemContext } from '../agent/subsystem.js';
import type { TelegenConfig } from '../config/schema.js';
import { parseDuration } from '../config/types.js';
import type { OtlpTransport } from '../export/exporter.js';
import { FileExporter } from '../export/file/writer.js';
import { createGrpcTransport } from '../export/otlp-grpc/transport.js';
import { createHttpTransport } from '../export/otlp-http/transport.js';
import type { ExportOutcome } from '../export/outcome.js';
import { attributeCacheStats } from '../export/proto/attributes.js';
import { encodeBorrowed } from '../export/proto/encode-otlp.js';
import { ExportConfigError, GZIP_LEVEL, otlpSettings, type OtlpSettings, type OtlpSignal } from '../export/settings.js';
import { SIGNAL_TYPES, type SignalItem, type SignalType } from '../model/signals.js';
import { sizerFor } from './item-size.js';
import { OtlpLane } from './otlp-lane.js';
import { probeEndpoint } from './probe.js';
import { RemoteWriteLane } from './remote-write-lane.js';
import type { RetryPolicy } from './retry.js';
import { SegmentLog } from './segment-log.js';
import { SignalQueue } from './signal-queue.js';
import { DiskBudget, MemoryStore, type BatchStore, type StoredBatch } from './store.js';
import { countCollected, countDropped, countExported, dataPoints } from './counters.js';
import { CounterFromTotal } from '../telemetry/self-metrics.js';

type Ctx = Omit<SubsystemContext, 'sink'>;
type Counts = Record<SignalType, number>;
const OTLP_SIGNALS: readonly OtlpSignal[] = ['traces', 'metrics', 'logs'];
const zero = (): Counts => ({ traces: 0, metrics: 0, logs: 0, profiles: 0 });

export class TelegenPipeline implements ExportPipeline {
  readonly name = 'export';
  readonly readinessCheck = 'otlp';
  private config: TelegenConfig;
  private settings: OtlpSettings | null;
  private transport: OtlpTransport | null = null;
  private file: FileExporter | null = null;
  private remoteWrite: RemoteWriteLane | null = null;
  private readonly queues: { [S in SignalType]: SignalQueue<SignalItem[S]> };
  private readonly lanes = new Map<OtlpSignal, OtlpLane>();
  private budget: DiskBudget;
  private abort = new AbortController();
  private timer?: NodeJS.Timeout;
  private cutScheduled = false;
  private started = false;
  private stopped = false;
  private readonly exported = zero();
  private readonly dropped = zero();
  private readonly durable = zero();
  private connected = false;
  private lastExport: Date | null = null;
  private lastError: string | null = null;
  private lastFailure: string | null = null;
  private startError: Error | null = null;
  /** Export attempts so far: a probe's answer counts only if no attempt came in meanwhile. */
  private attempts = 0;
  private probing = false;
  /** What the current destinations were built from: a reload that changes none of it keeps them (and their connections). */
  private destinationsKey = '';

  constructor(private readonly ctx: Ctx) {
    this.config = ctx.config;
    try {
      this.settings = otlpSettings(ctx.config);
    } catch (e) {
      // Reported by start(): an unusable otlp section is a start-up error (exit code 5), not a constructor crash.
      this.settings = null;
      this.startError = e as Error;
    }
    this.budget = new DiskBudget(ctx.config.queue.max_bytes);
    const q = <S extends SignalType>(s: S) => new SignalQueue<SignalItem[S]>(
      s === 'profiles' ? ctx.config.otlp.profiles.queue_capacity : ctx.config.otlp[s].queue_capacity,
      ctx.config.queue.memory_bytes, sizerFor(s));
    this.queues = { traces: q('traces'), metrics: q('metrics'), logs: q('logs'), profiles: q('profiles') };
    // The encoder's attribute cache is one per process; its counters are cumulative, so each registry adds the growth.
    const start = attributeCacheStats();
    const uncached = new CounterFromTotal((n) => ctx.metrics.encoderCacheUncached.inc(n), start.uncachedKeyWrites);
    const resets = new CounterFromTotal((n) => ctx.metrics.encoderCacheResets.inc(n), start.resets);
    ctx.metrics.onCollect(() => {
      for (const s of SIGNAL_TYPES) ctx.metrics.exportQueueSize.set({ signal_type: s }, this.queueSize(s));
      const c = attributeCacheStats();
      ctx.metrics.encoderCacheKeys.set(c.keys);
      ctx.metrics.encoderCacheBytes.set(c.bytes);
      uncached.update(c.uncachedKeyWrites);
      resets.update(c.resets);
    });
  }

  required(): boolean {
    return true;
  }

  async start(): Promise<void> {
    if (this.started) return;
    if (this.startError) throw this.startError;
    this.started = true;
    this.applyDestinations(this.config, this.settings);
    this.openLanes();
    this.startTimer();
    for (const lane of this.lanes.values()) lane.kick();
    this.probe();
    this.ctx.logger.info({
      endpoint: this.settings?.endpoint ?? null, protocol: this.settings?.protocol ?? null,
      file_exporter: this.file?.settings.directory ?? null, remote_write: this.config.remote_write.enabled ? this.config.remote_write.endpoint : null,
      queue: this.config.queue.persistent ? this.config.queue.directory : 'memory',
    }, 'export pipeline started');
  }

  push<S extends SignalType>(signal: S, items: readonly SignalItem[S][]): number {
    if (items.length === 0) return 0;
    countCollected(this.ctx.metrics, signal, items);
    if (this.stopped || !this.hasDestination(signal)) {
      this.drop(signal, items, signal === 'profiles' ? 'unsupported' : 'no_exporter');
      return 0;
    }
    const queue = this.queues[signal] as SignalQueue<SignalItem[S]>;
    const accepted = queue.offer(items);
    if (accepted < items.length) this.dropTail(signal, items, accepted, 'queue_full');
    if (queue.length >= this.batchSize(signal)) this.scheduleCut();
    return accepted;
  }

  async flush(): Promise<Counts> {
    const before = { ...this.exported };
    this.cutAll(true);
    const deadline = Date.now() + Math.max(1000, this.settings?.timeoutMs ?? 0);
    await Promise.all([...this.lanes.values()].map((l) => l.drain(deadline)));
    await this.remoteWrite?.drain(deadline);
    const out = zero();
    for (const s of SIGNAL_TYPES) out[s] = this.exported[s] - before[s];
    return out;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    // Everything in memory goes into the persistent queue first, so nothing accepted is lost on the way out.
    this.cutAll(true);
    const budget = Math.max(500, parseDuration(this.config.shutdown_timeout) - 1500);
    const deadline = Date.now() + budget;
    await Promise.all([...this.lanes.values()].map((l) => l.drain(deadline)));
    await this.remoteWrite?.drain(deadline);
    this.abort.abort();
    await Promise.all([...this.lanes.values()].map((l) => l.idle()));
    for (const lane of this.lanes.values()) lane.store.close();
    await this.transport?.close();
    this.remoteWrite?.close();
    const left = OTLP_SIGNALS.reduce((n, s) => n + (this.lanes.get(s)?.store.pendingItems() ?? 0), 0);
    if (left) this.ctx.logger.warn({ items: left, persistent: this.config.queue.persistent }, 'export pipeline stopped with unsent items');
  }

  async reload(next: TelegenConfig): Promise<void> {
    const settings = otlpSettings(next); // throws: the Agent rolls back
    if (next.queue.directory !== this.config.queue.directory || next.queue.persistent !== this.config.queue.persistent) {
      throw new ExportConfigError('queue.directory and queue.persistent cannot change at runtime (restart the agent)');
    }
    const changed = destinationsKey(next, settings) !== this.destinationsKey;
    if (changed) this.applyDestinations(next, settings);
    this.config = next;
    this.settings = settings;
    this.budget.max = next.queue.max_bytes;
    for (const s of SIGNAL_TYPES) {
      this.queues[s].capacity = next.otlp[s].queue_capacity;
      this.queues[s].maxBytes = next.queue.memory_bytes;
    }
    clearInterval(this.timer);
    if (this.started && !this.stopped) {
      this.startTimer();
      this.openLanes();
      for (const lane of this.lanes.values()) lane.kick();
      if (changed) this.probe();
    }
  }

  health(): Health {
    if (!this.settings) return 'disabled';
    if (this.lastFailure && !this.connected) return `failed: ${this.lastFailure}`;
    return 'ok';
  }

  status(): unknown {
    const s = this.settings;
    return {
      endpoint: s?.endpoint ?? this.config.otlp.endpoint,
      protocol: this.config.otlp.protocol,
      tls: s?.tls ?? false,
      compression: this.config.otlp.compression,
      connected: this.connected,
      last_export: this.lastExport?.toISOString() ?? null,
      last_error: this.lastError,
      queues: Object.fromEntries(SIGNAL_TYPES.map((sig) => [sig, {
        size: this.queueSize(sig), capacity: this.queues[sig].capacity, exported: this.exported[sig], dropped: this.dropped[sig],
      }])),
    };
  }

  /** Items durably accepted per signal (written to the queue store or to the file exporter). */
  durableCount(signal: SignalType): number {
    return this.durable[signal];
  }

  /** What recovery found in the persistent queue at start (tests, diagnostics). */
  recovery(): Record<string, unknown> {
    return Object.fromEntries([...this.lanes].map(([s, l]) => [s, l.store instanceof SegmentLog ? l.store.recovery : null]));
  }

  // --- internals ---

  private queueSize(s: SignalType): number {
    return this.queues[s].length + (s === 'profiles' ? 0 : this.lanes.get(s)?.store.pendingItems() ?? 0);
  }

  private batchSize(s: SignalType): number {
    return this.config.otlp[s].batch_size;
  }

  private hasDestination(s: SignalType): boolean {
    if (s === 'profiles') return false;
    return this.otlpEnabled(s) || this.file !== null || (s === 'metrics' && this.remoteWrite !== null);
  }

  private otlpEnabled(s: OtlpSignal): boolean {
    return this.settings !== null && this.config.otlp[s].enabled;
  }

  /** Build transports / file exporter / remote write for `cfg`, then swap them in (old ones closed after). */
  private applyDestinations(cfg: TelegenConfig, settings: OtlpSettings | null): void {
    const transport = settings ? (settings.protocol === 'grpc' ? createGrpcTransport(settings) : createHttpTransport(settings)) : null;
    const fe = cfg.file_exporter;
    const fileOn = fe.enabled === true || (fe.enabled === 'auto' && !settings);
    let file: FileExporter | null;
    try {
      file = fileOn ? new FileExporter({ directory: fe.directory, rotateBytes: fe.rotate_bytes }) : null;
    } catch (e) {
      void transport?.close();
      throw new ExportConfigError(`file_exporter.directory ${fe.directory}: ${(e as Error).message}`);
    }
    const rw = cfg.remote_write;
    if (rw.enabled && !/^https?:\/\//.test(rw.endpoint)) {
      void transport?.close();
      throw new ExportConfigError(`remote_write.endpoint "${rw.endpoint}" must be an http(s) URL`);
    }
    const old = { transport: this.transport, remoteWrite: this.remoteWrite };
    this.destinationsKey = destinationsKey(cfg, settings);
    this.transport = transport;
    this.file = file;
    this.remoteWrite = rw.enabled ? new RemoteWriteLane({ endpoint: rw.endpoint, headers: { ...rw.headers }, timeoutMs: parseDuration(cfg.otlp.timeout) },
      this.ctx.metrics, () => this.policy(), () => this.abort.signal, (n, reason) => this.remoteWriteResult(n, reason)) : null;
    if (old.transport !== transport) {
      // A new endpoint: what was known of the old one does not apply (the probe and the next export tell).
      this.connected = false;
      this.lastFailure = null;
    }
    // In-flight requests may still hold the old instances: close them once those are surely done.
    if (old.transport || old.remoteWrite) {
      setTimeout(() => {
        void old.transport?.close();
        old.remoteWrite?.close();
      }, parseDuration(cfg.otlp.timeout) + 2000).unref();
    }
  }

  private openLanes(): void {
    for (const s of OTLP_SIGNALS) {
      if (this.lanes.has(s)) continue;
      // Open a lane when the signal is exported over OTLP, or when a persistent queue holds data from before.
      const dir = join(this.config.queue.directory, s);
      if (!this.otlpEnabled(s) && !(this.config.queue.persistent && segmentLogHasData(dir))) continue;
      let store: BatchStore;
      if (this.config.queue.persistent) {
        const log = new SegmentLog(dir, this.budget);
        if (log.recovery.records) this.ctx.logger.info({ signal: s, ...log.recovery }, 'persistent queue: unacknowledged batches will be sent first');
        if (log.recovery.corruptRecords) {
          this.ctx.logger.warn({ signal: s, ...log.recovery }, 'persistent queue: torn or corrupt tail truncated');
          this.ctx.metrics.exportQueueTruncated.inc({ signal_type: s }, log.recovery.truncatedBytes);
        }
        store = log;
      } else store = new MemoryStore(this.budget);
      this.lanes.set(s, new OtlpLane(s, store, {
        transport: () => (this.otlpEnabled(s) ? this.transport : null),
        timeoutMs: () => this.settings?.timeoutMs ?? 10_000,
        policy: () => this.policy(),
        abort: () => this.abort.signal,
      }, { attempted: (sig, o, sec, b) => this.attempted(sig, o, sec, b), finished: (sig, b, o) => this.finished(sig, b, o) }));
    }
  }

  private startTimer(): void {
    this.timer = setInterval(() => {
      this.cutAll(true);
      // Down and nothing to send (so no export attempt will tell): keep probing so readiness recovers.
      if (!this.connected && [...this.lanes.values()].every((l) => !l.store.peek())) this.probe();
    }, parseDuration(this.config.otlp.flush_interval)).unref();
  }

  /** A TCP connect to the endpoint (./probe.ts) sets readiness unless an export attempt answers first. */
  private probe(): void {
    const s = this.settings;
    if (!s || this.probing || this.stopped || !this.started) return;
    this.probing = true;
    const seen = this.attempts;
    const transport = this.transport;
    void probeEndpoint(s, Math.min(s.timeoutMs, 5000)).then((reason) => {
      this.probing = false;
      if (this.attempts !== seen || this.transport !== transport || this.stopped) return;
      this.connected = reason === null;
      this.lastFailure = reason;
    });
  }

  private policy(): RetryPolicy {
    const r = this.config.otlp.retry;
    return { initialMs: parseDuration(r.initial_interval), maxMs: parseDuration(r.max_interval), multiplier: r.multiplier };
  }

  private scheduleCut(): void {
    if (this.cutScheduled) return;
    this.cutScheduled = true;
    setImmediate(() => {
      this.cutScheduled = false;
      this.cutAll(false);
    });
  }

  /** Cut batches: full ones always; with `partial`, the tail too (flush-interval tick, flush, stop). */
  private cutAll(partial: boolean): void {
    for (const s of SIGNAL_TYPES) {
      const q = this.queues[s];
      const size = this.batchSize(s);
      while (q.length >= size || (partial && q.length > 0)) this.deliver(s, q.take(size));
    }
  }

  private deliver<S extends SignalType>(signal: S, items: SignalItem[S][]): void {
    if (signal === 'profiles') return this.drop(signal, items, 'unsupported');
    const s = signal as OtlpSignal;
    const primary = this.otlpEnabled(s) ? 'otlp' : this.file ? 'file' : 'remote_write';
    if (this.otlpEnabled(s)) {
      const lane = this.lanes.get(s)!;
      const points = s === 'metrics' ? dataPoints(items as SignalItem['metrics'][]) : items.length;
      // Borrowed from the encoder: the store writes (segment log) or copies (memory) it before returning.
      const raw = s === 'traces' ? encodeBorrowed(s, items as SignalItem['traces'][])
        : s === 'metrics' ? encodeBorrowed(s, items as SignalItem['metrics'][]) : encodeBorrowed(s, items as SignalItem['logs'][]);
      // gzip: compress once, here, at level 1, and queue the compressed bytes (a fraction of the disk, the
      // checksum and the copies); both transports send them as they are (gRPC: ../export/otlp-grpc/precompressed.ts).
      const gzip = this.settings?.compression === 'gzip';
      const body = gzip ? gzipSync(raw, { level: GZIP_LEVEL }) : raw;
      if (lane.store.append(body, items.length, points, gzip)) {
        this.durable[s] += items.length;
        lane.kick();
      } else this.drop(signal, items, 'disk_full');
    }
    if (this.file) {
      try {
        this.file.write(s, items as SignalItem[OtlpSignal][]);
        if (primary === 'file') {
          this.durable[s] += items.length;
          this.exported[s] += items.length;
          countExported(this.ctx.metrics, s, items.length, s === 'metrics' ? dataPoints(items as SignalItem['metrics'][]) : items.length);
        }
      } catch (e) {
        if (primary === 'file') this.drop(signal, items, 'file_error');
        this.ctx.logger.warn({ err: (e as Error).message }, 'file exporter write failed');
      }
    }
    if (s === 'metrics' && this.remoteWrite) {
      const accepted = this.remoteWrite.enqueue(items as SignalItem['metrics'][]);
      if (primary === 'remote_write') {
        if (accepted) this.durable.metrics += items.length;
        else this.drop(signal, items, 'queue_full');
      }
    }
  }

  private remoteWriteResult(items: number, reason: string | null): void {
    const primary = !this.otlpEnabled('metrics') && !this.file;
    if (!primary) return;
    if (reason === null) this.exported.metrics += items;
    else this.dropped.metrics += items;
  }

  /** Drop items[from..] without copying them (a flood must not allocate in proportion to what it refuses). */
  private dropTail<S extends SignalType>(signal: S, items: readonly SignalItem[S][], from: number, reason: string): void {
    let units = items.length - from;
    if (signal === 'metrics') {
      units = 0;
      for (let i = from; i < items.length; i++) units += (items[i] as SignalItem['metrics']).points.length;
    }
    this.dropped[signal] += items.length - from;
    countDropped(this.ctx.metrics, signal, units, reason);
  }

  private drop<S extends SignalType>(signal: S, items: readonly SignalItem[S][], reason: string): void {
    this.dropped[signal] += items.length;
    countDropped(this.ctx.metrics, signal, items, reason);
  }

  private attempted(signal: OtlpSignal, o: ExportOutcome, seconds: number, batch: StoredBatch): void {
    const endpoint = this.settings?.endpoint ?? '';
    const m = this.ctx.metrics;
    this.attempts++;
    m.exportRequests.inc({ endpoint, status: o.status });
    m.exportLatency.observe({ endpoint }, seconds);
    m.exportBatchSize.observe({ signal_type: signal }, batch.count);
    if (o.kind === 'ok') {
      this.connected = true;
      this.lastFailure = null;
      this.lastExport = new Date();
      return;
    }
    m.exportErrors.inc({ endpoint, error_type: o.errorType ?? 'unknown' });
    this.lastError = o.message ?? o.status;
    // Permanent refusals are about the data, not the connection: readiness follows the transport.
    if (o.kind !== 'permanent') {
      this.connected = false;
      this.lastFailure = o.message ?? o.status;
    }
    this.ctx.logger.debug({ signal, outcome: o }, 'export attempt failed');
  }

  private finished(signal: OtlpSignal, batch: StoredBatch, o: ExportOutcome): void {
    if (o.kind === 'permanent') {
      this.dropped[signal] += batch.count;
      countDropped(this.ctx.metrics, signal, batch.points, o.errorType ?? 'permanent');
      this.ctx.logger.warn({ signal, items: batch.count, error: o.message }, 'export refused by the backend; batch dropped');
      return;
    }
    // Partial success: rejected_* is in the signal's own unit (spans, data points, log records).
    const rejectedPoints = Math.min(batch.points, o.rejected ?? 0);
    const rejectedItems = signal === 'metrics' ? Math.min(batch.count, Math.ceil(rejectedPoints * batch.count / Math.max(1, batch.points))) : rejectedPoints;
    if (rejectedPoints) {
      this.dropped[signal] += rejectedItems;
      countDropped(this.ctx.metrics, signal, rejectedPoints, 'rejected');
      this.ctx.logger.warn({ signal, rejected: o.rejected, message: o.message }, 'backend partially rejected a batch');
    }
    this.exported[signal] += batch.count - rejectedItems;
    countExported(this.ctx.metrics, signal, batch.count - rejectedItems, batch.points - rejectedPoints);
  }
}

/** A persistent queue directory left with unsent data (e.g. the endpoint was removed from the config). */
function segmentLogHasData(dir: string): boolean {
  try {
    return readdirSync(dir).some((n) => n.endsWith('.seg'));
  } catch {
    return false;
  }
}

/** Everything the destinations are built from (TLS files by content, so a reload picks up rotated certificates). */
function destinationsKey(cfg: TelegenConfig, settings: OtlpSettings | null): string {
  return JSON.stringify([settings, cfg.otlp.timeout, cfg.file_exporter, cfg.remote_write]);
}
