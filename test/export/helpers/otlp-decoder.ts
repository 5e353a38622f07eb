// The OpenTelemetry project's own generated protobuf code (pbjs static module shipped in
// @opentelemetry/otlp-transformer ≤ 0.214, installed as the dev alias `otlp-generated-decoder`, because the
// current transformer no longer ships a request decoder). Tests decode what Telegen sends with it.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface Decoder { decode(b: Uint8Array): unknown; toObject(m: unknown, o: Record<string, unknown>): Record<string, unknown> }
interface Root {
  opentelemetry: { proto: { collector: {
    trace: { v1: { ExportTraceServiceRequest: Decoder; ExportTraceServiceResponse: Decoder & { encode(m: unknown): { finish(): Uint8Array } } } };
    metrics: { v1: { ExportMetricsServiceRequest: Decoder; ExportMetricsServiceResponse: Decoder & { encode(m: unknown): { finish(): Uint8Array } } } };
    logs: { v1: { ExportLogsServiceRequest: Decoder; ExportLogsServiceResponse: Decoder & { encode(m: unknown): { finish(): Uint8Array } } } };
  } } };
}

export const otelRoot = require('otlp-generated-decoder/build/src/generated/root.js') as Root;
const c = otelRoot.opentelemetry.proto.collector;

export type Signal = 'traces' | 'metrics' | 'logs';
const REQUEST: Record<Signal, Decoder> = {
  traces: c.trace.v1.ExportTraceServiceRequest,
  metrics: c.metrics.v1.ExportMetricsServiceRequest,
  logs: c.logs.v1.ExportLogsServiceRequest,
};

/** Decode an export request with OpenTelemetry's generated code into a plain object (longs as strings, bytes as hex). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function decodeRequest(signal: Signal, bytes: Uint8Array): any {
  const d = REQUEST[signal];
  const msg = d.decode(bytes);
  return d.toObject(msg, { longs: String, bytes: Buffer, defaults: false, arrays: true, oneofs: false });
}

/** An ExportXServiceResponse with partial_success, encoded with OpenTelemetry's generated code. */
export function encodePartialSuccess(signal: Signal, rejected: number, message: string): Uint8Array {
  const field = signal === 'traces' ? 'rejectedSpans' : signal === 'metrics' ? 'rejectedDataPoints' : 'rejectedLogRecords';
  const enc = signal === 'traces' ? c.trace.v1.ExportTraceServiceResponse : signal === 'metrics' ? c.metrics.v1.ExportMetricsServiceResponse : c.logs.v1.ExportLogsServiceResponse;
  return enc.encode({ partialSuccess: { [field]: rejected, errorMessage: message } }).finish();
}
