// The OTLP/JSON mapping (lowerCamelCase fields, hex trace/span ids, 64-bit integers as strings, enums as
// numbers) of ExportTraceServiceRequest / ExportMetricsServiceRequest / ExportLogsServiceRequest.
import type { AttributeValue, Attributes, Resource, Scope } from '../../model/attributes.js';
import type { LogRecord } from '../../model/log.js';
import type { HistogramPoint, Metric, NumberPoint } from '../../model/metric.js';
import type { Span } from '../../model/span.js';
import { groupByResource } from '../proto/common.js';

type Json = Record<string, unknown>;
const NO_SCOPE: Scope = { name: 'telegen' };

export function anyValueJson(v: AttributeValue): Json {
  switch (typeof v) {
    case 'string': return { stringValue: v };
    case 'boolean': return { boolValue: v };
    case 'number': return Number.isSafeInteger(v) ? { intValue: String(v) } : { doubleValue: v };
    case 'bigint': return { intValue: String(BigInt.asIntN(64, v)) };
    default: return { arrayValue: { values: (v as readonly (string | number)[]).map(anyValueJson) } };
  }
}

export const attributesJson = (a: Attributes): Json[] =>
  Object.entries(a).map(([key, value]) => ({ key, value: anyValueJson(value) }));

const hex = (b: Uint8Array | undefined): string | undefined => (b && b.length ? Buffer.from(b).toString('hex') : undefined);
const resourceJson = (r: Resource): Json => ({ attributes: attributesJson(r.attributes) });
const scopeJson = (s: Scope): Json => ({ name: s.name, ...(s.version ? { version: s.version } : {}) });
const TEMPORALITY = { delta: 1, cumulative: 2 } as const;

function grouped<T extends { resource: Resource; scope?: Scope }>(items: readonly T[], scopeKey: string, itemsKey: string, one: (t: T) => Json): Json[] {
  return groupByResource(items, NO_SCOPE).map((rg) => ({
    resource: resourceJson(rg.resource),
    [scopeKey]: [...rg.scopes.values()].map((sg) => ({ scope: scopeJson(sg.scope), [itemsKey]: sg.items.map(one) })),
  }));
}

export const tracesJson = (spans: readonly Span[]): Json => ({ resourceSpans: grouped(spans, 'scopeSpans', 'spans', spanJson) });
export const metricsJson = (ms: readonly Metric[]): Json => ({ resourceMetrics: grouped(ms, 'scopeMetrics', 'metrics', metricJson) });
export const logsJson = (ls: readonly LogRecord[]): Json => ({ resourceLogs: grouped(ls, 'scopeLogs', 'logRecords', logJson) });

function spanJson(s: Span): Json {
  return {
    traceId: hex(s.traceId), spanId: hex(s.spanId), parentSpanId: hex(s.parentSpanId),
    ...(s.traceState ? { traceState: s.traceState } : {}),
    name: s.name, kind: s.kind,
    startTimeUnixNano: String(s.startTimeUnixNano), endTimeUnixNano: String(s.endTimeUnixNano),
    attributes: attributesJson(s.attributes),
    status: { code: s.status.code, ...(s.status.message ? { message: s.status.message } : {}) },
  };
}

function numberPointJson(p: NumberPoint): Json {
  return {
    attributes: attributesJson(p.attributes), startTimeUnixNano: String(p.startTimeUnixNano), timeUnixNano: String(p.timeUnixNano),
    ...(p.isInt ? { asInt: String(Math.trunc(p.value)) } : { asDouble: p.value }),
  };
}

function histogramPointJson(p: HistogramPoint): Json {
  return {
    attributes: attributesJson(p.attributes), startTimeUnixNano: String(p.startTimeUnixNano), timeUnixNano: String(p.timeUnixNano),
    count: String(p.count), sum: p.sum, bucketCounts: p.bucketCounts.map(String), explicitBounds: [...p.explicitBounds],
    ...(p.min !== undefined ? { min: p.min } : {}), ...(p.max !== undefined ? { max: p.max } : {}),
  };
}

function metricJson(m: Metric): Json {
  const base = { name: m.name, description: m.description, unit: m.unit };
  switch (m.type) {
    case 'gauge': return { ...base, gauge: { dataPoints: m.points.map(numberPointJson) } };
    case 'sum': return { ...base, sum: { dataPoints: m.points.map(numberPointJson), aggregationTemporality: TEMPORALITY[m.temporality], isMonotonic: m.monotonic } };
    case 'histogram': return { ...base, histogram: { dataPoints: m.points.map(histogramPointJson), aggregationTemporality: TEMPORALITY[m.temporality] } };
  }
}

function logJson(l: LogRecord): Json {
  return {
    timeUnixNano: String(l.timeUnixNano), observedTimeUnixNano: String(l.observedTimeUnixNano),
    severityNumber: l.severityNumber, ...(l.severityText ? { severityText: l.severityText } : {}),
    body: anyValueJson(l.body), attributes: attributesJson(l.attributes),
    ...(hex(l.traceId) ? { traceId: hex(l.traceId) } : {}), ...(hex(l.spanId) ? { spanId: hex(l.spanId) } : {}),
  };
}
