import type { Attributes, Resource, Scope } from './attributes.js';

export type Temporality = 'cumulative' | 'delta';

interface PointBase {
  attributes: Attributes;
  /** Start of the accumulation window (cumulative: process/counter start). Unix epoch ns. */
  startTimeUnixNano: bigint;
  timeUnixNano: bigint;
}
export interface NumberPoint extends PointBase {
  value: number;
  /** Written as as_int in OTLP when true, as_double otherwise. */
  isInt?: boolean;
}
export interface HistogramPoint extends PointBase {
  count: number;
  sum: number;
  min?: number;
  max?: number;
  /** Upper bounds, ascending; bucketCounts has explicitBounds.length + 1 entries. */
  explicitBounds: readonly number[];
  bucketCounts: readonly number[];
}

interface MetricBase {
  name: string;
  description: string;
  unit: string;
  resource: Resource;
  scope: Scope;
}
export interface GaugeMetric extends MetricBase { type: 'gauge'; points: NumberPoint[] }
export interface SumMetric extends MetricBase {
  type: 'sum';
  monotonic: boolean;
  temporality: Temporality;
  points: NumberPoint[];
}
export interface HistogramMetric extends MetricBase {
  type: 'histogram';
  temporality: Temporality;
  points: HistogramPoint[];
}
/** One metric with its data points. A queue item on the metrics road is one Metric (its points travel together). */
export type Metric = GaugeMetric | SumMetric | HistogramMetric;
