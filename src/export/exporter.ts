// What every OTLP transport implements: encode nothing, decide nothing — send one encoded request and report
// what happened on the wire (classified by ./outcome.ts). Retry, timeout policy and queueing wrap around it.
import type { ExportOutcome } from './outcome.js';
import type { OtlpSignal } from './settings.js';

export interface OtlpTransport {
  /**
   * Send one ExportXServiceRequest: protobuf bytes, gzip-compressed when `gzipped` (the persistent queue keeps
   * batches compressed when OTLP/HTTP with gzip is configured). The transport compresses or decompresses as its
   * settings need. Never throws: failures are outcomes.
   */
  send(signal: OtlpSignal, body: Buffer, timeoutMs: number, gzipped?: boolean): Promise<ExportOutcome>;
  close(): Promise<void>;
}
