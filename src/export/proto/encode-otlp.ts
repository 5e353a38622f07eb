// OTLP protobuf encoding straight from the internal types (the hot path): ExportTraceServiceRequest,
// ExportMetricsServiceRequest, ExportLogsServiceRequest. Field numbers are those of opentelemetry-proto v1.
// The same bytes go out over gRPC and HTTP, and are what the persistent queue stores.
import type { LogRecord } from '../../model/log.js';
import type { HistogramPoint, Metric, NumberPoint, Temporality } from '../../model/metric.js';
import type { Span } from '../../model/span.js';
import type { Scope } from '../../model/attributes.js';
import { newSlots, writeAnyValue, writeAttributes } from './attributes.js';
import { groupByResource, writeResource, writeScope } from './common.js';
import { ProtoWriter } from './writer.js';

const NO_SCOPE: Scope = { name: 'telegen' };
const shared = new ProtoWriter();
// Attribute key slots per call site: each kind of item has its own attribute order.
const spanSlots = newSlots();
const pointSlots = newSlots();
const logSlots = newSlots();

/**
 * The hot path's variant: the request encoded into the module's shared writer and returned without a copy —
 * valid only until the next encode. The pipeline hands it straight to the persistent queue (which writes it to
 * disk) or to the memory store (which copies it), so no buffer is allocated per batch.
 */
export function encodeBorrowed(signal: 'traces', items: readonly Span[]): Buffer;
export function encodeBorrowed(signal: 'metrics', items: readonly Metric[]): Buffer;
export function encodeBorrowed(signal: 'logs', items: readonly LogRecord[]): Buffer;
export function encodeBorrowed(signal: 'traces' | 'metrics' | 'logs', items: readonly (Span | Metric | LogRecord)[]): Buffer {
  if (signal === 'traces') writeTraces(items as readonly Span[], shared);
  else if (signal === 'metrics') writeMetrics(items as readonly Metric[], shared);
  else writeLogs(items as readonly LogRecord[], shared);
  return shared.view();
}

/**
 * Called when export is idle: the shared writer gives back a buffer grown past 1 MiB by a huge batch, once no
 * message (or only small ones) came since the previous call.
 */
export function trimEncoder(): void {
  shared.trim();
}

/** The shared writer's current capacity (tests, diagnostics). */
export function encoderCapacity(): number {
  return shared.buf.length;
}

/** ExportTraceServiceRequest bytes (a buffer of their own). */
export function encodeTraces(spans: readonly Span[], w: ProtoWriter = shared): Buffer {
  writeTraces(spans, w);
  return w.finish();
}

export function encodeMetrics(metrics: readonly Metric[], w: ProtoWriter = shared): Buffer {
  writeMetrics(metrics, w);
  return w.finish();
}

export function encodeLogs(logs: readonly LogRecord[], w: ProtoWriter = shared): Buffer {
  writeLogs(logs, w);
  return w.finish();
}

function writeTraces(spans: readonly Span[], w: ProtoWriter): void {
  w.reset();
  for (const rg of groupByResource(spans, NO_SCOPE)) {
    const rs = w.begin(1); // resource_spans
    writeResource(w, 1, rg.resource);
    for (const sg of rg.scopes.values()) {
      const ss = w.begin(2); // scope_spans
      writeScope(w, 1, sg.scope);
      for (const s of sg.items) writeSpan(w, s);
      w.end(ss);
    }
    w.end(rs);
  }
}

function writeSpan(w: ProtoWriter, s: Span): void {
  const at = w.begin2(2); // spans are typically 128 B – 16 KiB
  w.bytes(1, s.traceId);
  w.bytes(2, s.spanId);
  if (s.traceState) w.string(3, s.traceState);
  if (s.parentSpanId && s.parentSpanId.length) w.bytes(4, s.parentSpanId);
  writeSpanName(w, s.name);
  if (s.kind) w.uint32(6, s.kind);
  w.fixed64(7, s.startTimeUnixNano);
  w.fixed64(8, s.endTimeUnixNano);
  writeAttributes(w, 9, s.attributes, spanSlots);
  if (s.status.code || s.status.message) {
    const st = w.begin(15);
    if (s.status.message) w.string(2, s.status.message);
    if (s.status.code) w.uint32(3, s.status.code);
    w.end(st);
  }
  w.end2(at);
}

// Span names repeat (one per route or operation): the encoded name field of the last few is kept, and a name
// equal to the previous span's is copied without a lookup. Bounded: NAME_CACHE names of ≤ 64 characters.
const NAME_CACHE = 64;
const names = new Map<string, Uint8Array>();
let lastName: string | undefined;
let lastNameField: Uint8Array | undefined;

function writeSpanName(w: ProtoWriter, name: string): void {
  if (name === lastName) {
    w.raw(lastNameField!);
    return;
  }
  const hit = names.get(name);
  if (hit !== undefined) {
    lastName = name;
    lastNameField = hit;
    w.raw(hit);
    return;
  }
  const at = w.pos;
  w.string(5, name);
  if (name.length > 64) return;
  if (names.size >= NAME_CACHE) names.clear(); // many distinct names: start over (bounded, and cheap to rebuild)
  lastName = name;
  lastNameField = new Uint8Array(w.buf.subarray(at, w.pos));
  names.set(name, lastNameField);
}

const TEMPORALITY: Record<Temporality, number> = { delta: 1, cumulative: 2 };

function writeMetrics(metrics: readonly Metric[], w: ProtoWriter): void {
  w.reset();
  for (const rg of groupByResource(metrics, NO_SCOPE)) {
    const rm = w.begin(1); // resource_metrics
    writeResource(w, 1, rg.resource);
    for (const sg of rg.scopes.values()) {
      const sm = w.begin(2); // scope_metrics
      writeScope(w, 1, sg.scope);
      for (const m of sg.items) writeMetric(w, m);
      w.end(sm);
    }
    w.end(rm);
  }
}

function writeMetric(w: ProtoWriter, m: Metric): void {
  const at = w.begin(2);
  w.string(1, m.name);
  if (m.description) w.string(2, m.description);
  if (m.unit) w.string(3, m.unit);
  switch (m.type) {
    case 'gauge': {
      const g = w.begin(5);
      for (const p of m.points) writeNumberPoint(w, p);
      w.end(g);
      break;
    }
    case 'sum': {
      const s = w.begin(7);
      for (const p of m.points) writeNumberPoint(w, p);
      w.uint32(2, TEMPORALITY[m.temporality]);
      if (m.monotonic) w.bool(3, true);
      w.end(s);
      break;
    }
    case 'histogram': {
      const h = w.begin(9);
      for (const p of m.points) writeHistogramPoint(w, p);
      w.uint32(2, TEMPORALITY[m.temporality]);
      w.end(h);
      break;
    }
  }
  w.end(at);
}

function writeNumberPoint(w: ProtoWriter, p: NumberPoint): void {
  const at = w.begin(1);
  w.fixed64(2, p.startTimeUnixNano);
  w.fixed64(3, p.timeUnixNano);
  if (p.isInt) w.sfixed64(6, p.value);
  else w.double(4, p.value);
  writeAttributes(w, 7, p.attributes, pointSlots);
  w.end(at);
}

function writeHistogramPoint(w: ProtoWriter, p: HistogramPoint): void {
  const at = w.begin(1);
  w.fixed64(2, p.startTimeUnixNano);
  w.fixed64(3, p.timeUnixNano);
  w.fixed64n(4, p.count);
  w.double(5, p.sum);
  w.packedFixed64(6, p.bucketCounts);
  w.packedDoubles(7, p.explicitBounds);
  writeAttributes(w, 9, p.attributes, pointSlots);
  if (p.min !== undefined) w.double(11, p.min);
  if (p.max !== undefined) w.double(12, p.max);
  w.end(at);
}

function writeLogs(logs: readonly LogRecord[], w: ProtoWriter): void {
  w.reset();
  for (const rg of groupByResource(logs, NO_SCOPE)) {
    const rl = w.begin(1); // resource_logs
    writeResource(w, 1, rg.resource);
    for (const sg of rg.scopes.values()) {
      const sl = w.begin(2); // scope_logs
      writeScope(w, 1, sg.scope);
      for (const l of sg.items) writeLog(w, l);
      w.end(sl);
    }
    w.end(rl);
  }
}

function writeLog(w: ProtoWriter, l: LogRecord): void {
  const at = w.begin(2);
  w.fixed64(1, l.timeUnixNano);
  if (l.severityNumber) w.uint32(2, l.severityNumber);
  if (l.severityText) w.string(3, l.severityText);
  writeAnyValue(w, 5, l.body);
  writeAttributes(w, 6, l.attributes, logSlots);
  if (l.traceId && l.traceId.length) w.bytes(9, l.traceId);
  if (l.spanId && l.spanId.length) w.bytes(10, l.spanId);
  w.fixed64(11, l.observedTimeUnixNano);
  w.end(at);
}
