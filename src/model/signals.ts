import type { LogRecord } from './log.js';
import type { Metric } from './metric.js';
import type { Profile } from './profile.js';
import type { Span } from './span.js';

export type SignalType = 'traces' | 'metrics' | 'logs' | 'profiles';
export const SIGNAL_TYPES: readonly SignalType[] = ['traces', 'metrics', 'logs', 'profiles'];

export interface SignalItem {
  traces: Span;
  metrics: Metric;
  logs: LogRecord;
  profiles: Profile;
}

/**
 * What every source (tracers, host metrics, flow metrics, log tailers, profiler) writes into: the export pipeline.
 * Producers never block: `push` returns how many items were accepted; the rest were dropped and counted by the
 * pipeline with a reason.
 */
export interface SignalSink {
  push<S extends SignalType>(signal: S, items: readonly SignalItem[S][]): number;
}
