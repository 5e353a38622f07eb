// The TCP connection tracer (bpf/tcp.bpf.c): loads its object through the core, decodes connection events,
// feeds FlowMetrics and pushes the OTLP flow metrics periodically. Enabled by agent.ebpf.network.enabled;
// the ebpf subsystem starts/stops it on reload without a restart.
import type { SubsystemContext } from '../../agent/subsystem.js';
import type { TelegenConfig } from '../../config/schema.js';
import { EventKind, type BpfObjectHandle, type EbpfCore, type EventBatch } from '../core.js';
import { bpfObjectPath } from '../paths.js';
import { FlowMetrics } from './flow-metrics.js';
import { decodeTcpEvent, type TcpEvent } from './tcp-events.js';
import { CounterFromTotal } from '../../telemetry/self-metrics.js';
import { sumPerCpu } from '../per-cpu.js';

/** A tracer the ebpf subsystem owns and switches with the configuration. */
export interface BuiltinTracer {
  readonly name: string;
  enabled(config: TelegenConfig): boolean;
  /** Idempotent. */
  start(config: TelegenConfig): Promise<void>;
  /** Idempotent: detach, unload, push the last metrics. */
  stop(): Promise<void>;
}

export const TCP_PROGRAMS = ['trace_tcp_connect', 'trace_tcp_accept4', 'trace_tcp_accept', 'trace_tcp_send', 'trace_tcp_recv', 'trace_tcp_retransmit'] as const;
/** Live connections tracked in the kernel; beyond it new connections are counted in tcp_dropped. */
export const CONNECTION_MAP_ENTRIES = 65536;
const OTLP_PUSH_INTERVAL_MS = 15_000;

export interface TcpTracer extends BuiltinTracer {
  readonly flows: FlowMetrics;
  /** Every decoded event, for tests and future consumers (service graph). Returns the unsubscribe function. */
  onEvent(cb: (e: TcpEvent) => void): () => void;
}

export function createTcpTracer(core: EbpfCore, ctx: SubsystemContext): TcpTracer {
  const flows = new FlowMetrics(ctx.metrics);
  const listeners = new Set<(e: TcpEvent) => void>();
  let handle: BpfObjectHandle | undefined;
  let unsubscribe: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  let malformed = 0;

  const onBatch = (b: EventBatch) => {
    for (const off of b.offsets) {
      const e = decodeTcpEvent(b.buf, off);
      if (!e) {
        malformed++;
        continue;
      }
      flows.record(e);
      for (const l of listeners) l(e);
    }
  };
  // Connections the kernel side could not track (connection_map full), counted per CPU in tcp_dropped.
  const mapFull = new CounterFromTotal((n) => ctx.metrics.ebpfMapFull.inc({ map_name: 'connection_map' }, n));
  ctx.metrics.onCollect(() => {
    if (handle) mapFull.update(sumPerCpu(handle.map('tcp_dropped').lookup(Buffer.alloc(4)))[0]!);
  });
  const push = () => {
    const metrics = flows.toOtlp(ctx.resource);
    if (metrics.length) ctx.sink.push('metrics', metrics);
  };

  return {
    name: 'tcp',
    flows,
    enabled: (config) => config.agent.ebpf.network.enabled,
    onEvent(cb) {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    async start() {
      if (handle) return;
      unsubscribe = core.subscribe(EventKind.TCP, onBatch);
      try {
        handle = core.loadObject({
          name: 'tcp', objectFile: bpfObjectPath('tcp'),
          maxEntries: { connection_map: CONNECTION_MAP_ENTRIES }, attach: TCP_PROGRAMS,
        });
      } catch (e) {
        unsubscribe();
        unsubscribe = undefined;
        throw e;
      }
      mapFull.reset();
      timer = setInterval(push, OTLP_PUSH_INTERVAL_MS).unref();
      ctx.logger.info({ programs: TCP_PROGRAMS.length }, 'TCP connection tracer attached');
    },
    async stop() {
      if (!handle) return;
      clearInterval(timer);
      handle.close();
      handle = undefined;
      unsubscribe?.();
      unsubscribe = undefined;
      push();
      if (malformed) ctx.logger.warn({ malformed }, 'TCP tracer dropped malformed events');
    },
  };
}
