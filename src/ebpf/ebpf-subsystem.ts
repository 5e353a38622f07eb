// The `ebpf` subsystem and the EbpfCore other tracers use (core.ts). Start: preflight → addon → the core
// object (shared ring buffer, lost counter, process exec/exit) → ring-buffer polling → the built-in tracers
// (TCP connections). Stop: tracers, polling, then every object still loaded — nothing stays in the kernel.
import type { TelegenConfig } from '../config/schema.js';
import { ExitCode, SubsystemError } from '../agent/errors.js';
import { parseDuration } from '../config/types.js';
import { failed, type Health, type SubsystemContext } from '../agent/subsystem.js';
import { BpfLoadError, EventKind, type BpfObjectHandle, type EbpfStatus, type EbpfSubsystem, type EventBatch, type LoadObjectOptions, type ProcessEvent } from './core.js';
import { decodeProcessEvent } from './events.js';
import { isNativeError, nativeAddon, type NativeAddon, type NativeObject, type NativeRingbuf } from './native.js';
import { LoadedObject, toLoadError } from './object-loader.js';
import { bpfObjectPath } from './paths.js';
import { preflight } from './preflight.js';
import { Registry } from './registry.js';
import { RingbufDispatcher } from './ringbuf-dispatcher.js';
import { verifierExcerpt } from './verifier-log.js';
import { createTcpTracer, type BuiltinTracer } from './tcp/tcp-tracer.js';
import { CounterFromTotal } from '../telemetry/self-metrics.js';
import { sumPerCpu } from './per-cpu.js';

/** The shared maps every object reuses (bpf/common.h). */
export const SHARED_MAPS = { ringbuf: 'tg_events', lost: 'tg_events_lost', wakeup: 'tg_events_wakeup' } as const;
/** A submit wakes the consumer when this much is queued (at most a quarter of the ring). */
const WAKEUP_BYTES = 256 * 1024;

export interface EbpfCoreOptions {
  /** Build the built-in tracers (TCP); tests of the core alone turn them off. Default true. */
  builtinTracers?: boolean;
  /** Attach the process exec/exit programs (default true; tests that count every ring-buffer event turn it off). */
  processEvents?: boolean;
  /** The core object to load (default bpf/.output/core.bpf.o); tests point it elsewhere to make start fail. */
  coreObjectFile?: string;
}

export function createEbpfCore(ctx: SubsystemContext, opts: EbpfCoreOptions = {}): EbpfSubsystem {
  return new EbpfCoreImpl(ctx, opts);
}

class EbpfCoreImpl implements EbpfSubsystem {
  readonly name = 'ebpf';
  readonly readinessCheck = 'ebpf';
  private config: TelegenConfig;
  private state: 'stopped' | 'running' | 'failed' = 'stopped';
  private startFailure = '';
  private native?: NativeAddon;
  private core?: LoadedObject;
  private ringbuf?: NativeRingbuf;
  /** flushEvents() calls waiting for the addon's marker, oldest first (bounded by the callers: one per flush). */
  private flushWaiters: Array<() => void> = [];
  private ringbufSize = 0;
  /** agent.ebpf.delivery_latency as started (like ringbuf_size, it changes on restart). */
  private latencyMs = 0;
  private readonly registry = new Registry();
  private readonly dispatcher: RingbufDispatcher;
  private readonly processSubscribers = new Set<(e: ProcessEvent) => void>();
  private unsubscribeProcess?: () => void;
  private readonly tracers: BuiltinTracer[] = [];
  private readonly lost = new CounterFromTotal((n) => this.ctx.metrics.ebpfRingbufLost.inc(n));
  /** trace_process_listen is attached: exec, exit and new listeners all arrive as events. */
  private listenEvents = false;

  constructor(private readonly ctx: SubsystemContext, private readonly opts: EbpfCoreOptions) {
    this.config = ctx.config;
    this.dispatcher = new RingbufDispatcher((kind, err) =>
      ctx.logger.warn({ kind, err: (err as Error).message }, 'eBPF event subscriber threw'));
    if (opts.builtinTracers !== false) this.tracers.push(createTcpTracer(this, ctx));
    ctx.metrics.onCollect(() => this.collect());
  }

  required(): boolean {
    return this.config.agent.ebpf.required;
  }

  private wanted(config: TelegenConfig): boolean {
    return config.agent.ebpf.enabled && config.mode === 'agent';
  }

  async start(): Promise<void> {
    if (!this.wanted(this.config) || this.state === 'running') return;
    try {
      this.startCore();
    } catch (e) {
      this.state = 'failed';
      this.startFailure = reasonOf(e);
      this.teardown();
      throw new SubsystemError(`eBPF: ${this.startFailure}`, ExitCode.EBPF);
    }
    this.state = 'running';
    await this.applyTracers();
    this.ctx.logger.info({ ringbuf_size: this.ringbufSize, programs: this.registry.programs().length }, 'eBPF core started');
  }

  private startCore(): void {
    const why = preflight();
    if (why) throw new Error(why);
    const native = (this.native = nativeAddon());
    this.ringbufSize = this.config.agent.ebpf.ringbuf_size;
    this.latencyMs = Math.max(1, Math.round(parseDuration(this.config.agent.ebpf.delivery_latency)));
    let obj;
    try {
      obj = openRetrying(native, this.opts.coreObjectFile ?? bpfObjectPath('core'), {
        maxEntries: { [SHARED_MAPS.ringbuf]: this.ringbufSize },
        rodataOptional: this.wakeupRodata(),
      });
    } catch (e) {
      throw toLoadError(e, 'load');
    }
    this.core = new LoadedObject('core', native, obj, new Set(), (o) => this.registry.remove(o));
    this.registry.add(this.core);
    // libbpf rounds the ring up to a power-of-two number of pages: report what the kernel has.
    this.ringbufSize = this.core.maps().find((m) => m.name === SHARED_MAPS.ringbuf)?.maxEntries ?? this.ringbufSize;
    if (this.opts.processEvents !== false) {
      this.core.attach('trace_process_exec');
      this.core.attach('trace_process_exit');
      try {
        this.core.attach('trace_process_listen');
        this.listenEvents = true;
      } catch (e) {
        // Discovery then keeps polling for new listeners (scan_interval); nothing else depends on it.
        this.ctx.logger.warn({ err: reasonOf(e) }, 'TCP listen events unavailable: discovery rescans on its timer');
      }
    }
    const fds = this.sharedFds();
    this.ringbuf = native.ringbufOpen(fds[SHARED_MAPS.ringbuf]!, this.latencyMs, (batch, flushes) => this.onBatch(batch, flushes), fds[SHARED_MAPS.wakeup]);
    this.unsubscribeProcess = this.dispatcher.subscribe(EventKind.PROCESS, (b) => this.onProcessBatch(b));
  }

  private sharedFds(): Record<string, number> {
    const core = this.core!;
    return Object.fromEntries(Object.values(SHARED_MAPS).map((m) => [m, core.mapFd(m)]));
  }

  /** The wakeup policy every object gets in .rodata (bpf/common.h): a byte threshold and the latency bound. */
  private wakeupRodata(): Record<string, bigint> {
    return { tg_wakeup_bytes: BigInt(wakeupBytes(this.ringbufSize)), tg_wakeup_latency_ns: BigInt(this.latencyMs) * 1_000_000n };
  }

  private onBatch(buf: Buffer | null, flushes = 0): void {
    if (buf === null) {
      // The marker comes after every batch the flushes asked for (one FIFO queue): answer that many, oldest first.
      for (const done of this.flushWaiters.splice(0, flushes)) done();
      return;
    }
    const n = this.dispatcher.dispatch(buf);
    if (n) this.ctx.metrics.ebpfRingbufEvents.inc(n);
  }

  private onProcessBatch(b: EventBatch): void {
    if (this.processSubscribers.size === 0) return;
    for (const off of b.offsets) {
      const e = decodeProcessEvent(b.buf, off);
      for (const cb of this.processSubscribers) {
        try {
          cb(e);
        } catch (err) {
          this.ctx.logger.warn({ err: (err as Error).message }, 'process event subscriber threw');
        }
      }
    }
  }

  /** Start or stop each built-in tracer to match the configuration. A tracer failure is reported, not fatal. */
  private async applyTracers(): Promise<void> {
    for (const t of this.tracers) {
      this.registry.failures.delete(t.name); // re-recorded below if it still fails
      const on = this.state === 'running' && t.enabled(this.config);
      try {
        if (on) await t.start(this.config);
        else await t.stop();
      } catch (e) {
        this.registry.failures.set(t.name, reasonOf(e));
        this.ctx.logger.warn({ tracer: t.name, err: reasonOf(e) }, 'eBPF tracer failed to start');
      }
    }
  }

  async stop(): Promise<void> {
    for (const t of this.tracers) {
      try {
        await t.stop();
      } catch (e) {
        this.ctx.logger.warn({ tracer: t.name, err: reasonOf(e) }, 'eBPF tracer failed to stop');
      }
    }
    this.teardown();
    if (this.state === 'running') this.state = 'stopped';
  }

  /** Stop polling (pending batches are still delivered), then close every object, the core's last. */
  private teardown(): void {
    this.unsubscribeProcess?.();
    this.unsubscribeProcess = undefined;
    if (this.ringbuf) this.native?.ringbufClose(this.ringbuf);
    this.ringbuf = undefined;
    // Closing delivered what was left (synchronously, above): nothing more will come for a waiting flush.
    for (const done of this.flushWaiters.splice(0)) done();
    for (const o of [...this.registry.objects.values()]) if (o !== this.core) o.close();
    this.core?.close();
    this.core = undefined;
    this.listenEvents = false;
  }

  async reload(config: TelegenConfig): Promise<void> {
    const before = this.config;
    this.config = config;
    if (this.wanted(config) !== this.wanted(before)) {
      if (this.wanted(config)) {
        this.state = 'stopped';
        await this.start().catch((e) => this.ctx.logger.warn({ err: (e as Error).message }, 'eBPF failed to start on reload'));
      } else {
        await this.stop();
      }
      return;
    }
    if (this.state === 'running' && config.agent.ebpf.ringbuf_size !== this.ringbufSize) {
      this.ctx.logger.warn({ running: this.ringbufSize, configured: config.agent.ebpf.ringbuf_size }, 'agent.ebpf.ringbuf_size changes on restart');
    }
    if (this.state === 'running' && parseDuration(config.agent.ebpf.delivery_latency) !== parseDuration(before.agent.ebpf.delivery_latency)) {
      this.ctx.logger.warn({ running_ms: this.latencyMs, configured: config.agent.ebpf.delivery_latency }, 'agent.ebpf.delivery_latency changes on restart');
    }
    await this.applyTracers();
  }

  health(): Health {
    if (this.state === 'failed') return failed(this.startFailure);
    if (this.state !== 'running') return 'disabled';
    const [first] = this.registry.failures;
    return first ? failed(`${first[0]}: ${first[1]}`) : 'ok';
  }

  running(): boolean {
    return this.state === 'running';
  }

  status(): EbpfStatus {
    return this.registry.status(this.running(), {
      size: this.running() ? this.ringbufSize : 0,
      events_received: this.dispatcher.counters.received,
      events_lost: this.eventsLost(),
    });
  }

  /** Events BPF could not reserve in the shared ring buffer (sum of the per-CPU counter). */
  eventsLost(): number {
    if (!this.core || this.core.isClosed) return this.lost.value;
    return sumPerCpu(this.core.map(SHARED_MAPS.lost).lookup(Buffer.alloc(4)))[0]!;
  }

  private readonly discarded = {
    malformed: new CounterFromTotal((n) => this.ctx.metrics.ebpfEventsDiscarded.inc({ reason: 'malformed' }, n)),
    unclaimed: new CounterFromTotal((n) => this.ctx.metrics.ebpfEventsDiscarded.inc({ reason: 'unclaimed' }, n)),
    subscriber_error: new CounterFromTotal((n) => this.ctx.metrics.ebpfEventsDiscarded.inc({ reason: 'subscriber_error' }, n)),
  };

  private collect(): void {
    this.registry.collect(this.ctx.metrics);
    const c = this.dispatcher.counters;
    this.discarded.malformed.update(c.malformed);
    this.discarded.unclaimed.update(c.unclaimed);
    this.discarded.subscriber_error.update(c.subscriberErrors);
    this.lost.update(this.eventsLost());
  }

  loadObject(o: LoadObjectOptions): BpfObjectHandle {
    if (!this.running() || !this.core || !this.native) throw new Error(`eBPF core is not running (${this.health()})`);
    if (this.registry.objects.has(o.name)) throw new Error(`a BPF object named ${o.name} is already loaded`);
    let obj;
    try {
      obj = openRetrying(this.native, o.objectFile, {
        rodata: { ...o.rodata },
        rodataOptional: this.wakeupRodata(),
        maxEntries: { ...o.maxEntries },
        reuse: this.sharedFds(),
      });
    } catch (e) {
      const err = toLoadError(e, 'load');
      this.registry.failures.set(o.name, err instanceof BpfLoadError ? `${err.message}${verifierExcerpt(err.verifierLog)}` : err.message);
      throw err;
    }
    const handle = new LoadedObject(o.name, this.native, obj, new Set(Object.values(SHARED_MAPS)), (h) => this.registry.remove(h));
    this.registry.add(handle);
    try {
      for (const p of o.attach ?? []) handle.attach(p);
    } catch (e) {
      this.registry.failures.set(o.name, reasonOf(e));
      handle.close();
      throw e;
    }
    return handle;
  }

  subscribe(kind: number, cb: (batch: EventBatch) => void): () => void {
    return this.dispatcher.subscribe(kind, cb);
  }

  flushEvents(): Promise<void> {
    if (!this.ringbuf || !this.native) return Promise.resolve();
    const rb = this.ringbuf;
    return new Promise((resolve) => {
      this.flushWaiters.push(resolve);
      this.native!.ringbufFlush(rb);
    });
  }

  processEventsActive(): boolean {
    return this.running() && this.listenEvents;
  }

  subscribeProcessEvents(cb: (e: ProcessEvent) => void): () => void {
    this.processSubscribers.add(cb);
    return () => this.processSubscribers.delete(cb);
  }

  /** Counters of the dispatcher (malformed/unclaimed records), for tests and diagnostics. */
  dispatchCounters() {
    return { ...this.dispatcher.counters };
  }
}

function wakeupBytes(ringbufSize: number): number {
  return Math.min(WAKEUP_BYTES, Math.floor(ringbufSize / 4));
}

function reasonOf(e: unknown): string {
  if (e instanceof BpfLoadError) return `${e.message}${verifierExcerpt(e.verifierLog)}`;
  return (e as Error).message ?? String(e);
}

const EAGAIN = 11;

/**
 * The kernel answers BPF_PROG_LOAD with EAGAIN when a signal arrives while the verifier runs (e.g. a profiler's
 * SIGPROF); libbpf does not retry that. A few more attempts, then the error as it is.
 */
export function openRetrying(native: NativeAddon, file: string, opts: Parameters<NativeAddon['open']>[1], attempts = 3): NativeObject {
  for (let i = 1; ; i++) {
    try {
      return native.open(file, opts);
    } catch (e) {
      if (i >= attempts || !isNativeError(e) || Math.abs(e.errno) !== EAGAIN) throw e;
    }
  }
}
