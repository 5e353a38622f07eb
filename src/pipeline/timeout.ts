// The timeout layer: one request may not take longer than `otlp.timeout`, whatever the transport does.
import type { OtlpTransport } from '../export/exporter.js';
import type { ExportOutcome } from '../export/outcome.js';
import type { OtlpSignal } from '../export/settings.js';

export function withTimeout(t: OtlpTransport, signal: OtlpSignal, body: Buffer, ms: number, gzipped = false): Promise<ExportOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<ExportOutcome>((resolve) => {
    // The transport's own deadline normally answers first; this margin only catches a transport that hangs.
    timer = setTimeout(() => resolve({ kind: 'retryable', status: 'timeout', message: `request timed out after ${ms} ms`, errorType: 'timeout' }), ms + 1000);
  });
  return Promise.race([t.send(signal, body, ms, gzipped), guard]).finally(() => clearTimeout(timer));
}
