// Export pipeline entry point. Until the exporters exist (export-pipeline issue) every pushed item is
// counted as collected and dropped with reason "no_exporter" — nothing pretends to be exported.
import type { ExportPipeline, Health, SubsystemContext } from '../agent/subsystem.js';
import { SIGNAL_TYPES, type SignalItem, type SignalType } from '../model/signals.js';

export function createPipeline(ctx: Omit<SubsystemContext, 'sink'>): ExportPipeline {
  const dropped: Record<SignalType, number> = { traces: 0, metrics: 0, logs: 0, profiles: 0 };
  return {
    name: 'export',
    readinessCheck: 'otlp',
    async start() {},
    async stop() {},
    async reload() {},
    health: (): Health => 'disabled',
    status: () => ({
      endpoint: ctx.config.otlp.endpoint, protocol: ctx.config.otlp.protocol, tls: false,
      compression: ctx.config.otlp.compression, connected: false, last_export: null, last_error: null,
      queues: Object.fromEntries(SIGNAL_TYPES.map((s) => [s, { size: 0, capacity: ctx.config.otlp[s].queue_capacity, exported: 0, dropped: dropped[s] }])),
    }),
    push<S extends SignalType>(signal: S, items: readonly SignalItem[S][]): number {
      dropped[signal] += items.length;
      if (signal === 'traces') ctx.metrics.spansDropped.inc({ reason: 'no_exporter' }, items.length);
      return 0;
    },
    async flush() {
      return { traces: 0, metrics: 0, logs: 0, profiles: 0 };
    },
  };
}
