// Feeds the per-signal self-metrics. Units follow each family's help text: spans, metric *data points*, log
// records, profiles. telegen_spans_collected_total{signal_type} is labelled "traces" (the only value today:
// every span reaches the pipeline on the traces road). Drop reasons: queue_full, disk_full, no_exporter,
// unsupported (profiles: no OTLP profiles exporter yet), file_error, rejected (partial success) and the
// permanent error types from src/export/outcome.ts (http_400, grpc_invalid_argument, …).
import type { Metric } from '../model/metric.js';
import type { SignalItem, SignalType } from '../model/signals.js';
import type { SelfMetrics } from '../telemetry/self-metrics.js';

export const dataPoints = (ms: readonly Metric[]): number => ms.reduce((n, m) => n + m.points.length, 0);

const unitsOf = <S extends SignalType>(signal: S, items: readonly SignalItem[S][] | number): number =>
  typeof items === 'number' ? items : signal === 'metrics' ? dataPoints(items as readonly Metric[]) : items.length;

export function countCollected<S extends SignalType>(m: SelfMetrics, signal: S, items: readonly SignalItem[S][]): void {
  const n = unitsOf(signal, items);
  if (signal === 'traces') m.spansCollected.inc({ signal_type: 'traces' }, n);
  else if (signal === 'metrics') m.metricsCollected.inc(n);
  else if (signal === 'logs') m.logsCollected.inc(n);
  else m.profilesCollected.inc(n);
}

/** `items`: the dropped items, or already a count in the family's unit. */
export function countDropped<S extends SignalType>(m: SelfMetrics, signal: S, items: readonly SignalItem[S][] | number, reason: string): void {
  const n = unitsOf(signal, items);
  if (n <= 0) return;
  if (signal === 'traces') m.spansDropped.inc({ reason }, n);
  else if (signal === 'metrics') m.metricsDropped.inc({ reason }, n);
  else if (signal === 'logs') m.logsDropped.inc({ reason }, n);
}

export function countExported(m: SelfMetrics, signal: SignalType, items: number, points: number): void {
  if (signal === 'traces' && items > 0) m.spansExported.inc(items);
  else if (signal === 'metrics' && points > 0) m.metricsExported.inc(points);
  else if (signal === 'logs' && items > 0) m.logsExported.inc(items);
}
