// The one place that decides what an export failure means: permanent (drop, counted), retryable (back off and
// try again) or throttled (wait at least what the server asked). Exporters only report what happened on the
// wire; the retry wrapper acts on the classification.

export type OutcomeKind = 'ok' | 'retryable' | 'throttled' | 'permanent';

export interface ExportOutcome {
  kind: OutcomeKind;
  /** Items the backend rejected in a partial success (kind ok). */
  rejected?: number;
  /** What the backend or the transport said (for logs, last_error and readiness). */
  message?: string;
  /** throttled: the server's Retry-After / RetryInfo delay. */
  retryAfterMs?: number;
  /** Short label for telegen_export_errors_total{error_type} and drop reasons. */
  errorType?: string;
  /** HTTP status or gRPC code name for telegen_export_requests_total{status}. */
  status: string;
}

export const ok = (rejected = 0, message?: string): ExportOutcome =>
  ({ kind: 'ok', status: 'success', ...(rejected ? { rejected } : {}), ...(message ? { message } : {}) });

const HTTP_RETRYABLE = new Set([429, 502, 503, 504]);

/**
 * HTTP: OTLP retries 429/502/503/504, Prometheus remote write 429 and every 5xx (throttled when Retry-After is
 * given); every other non-2xx is permanent.
 */
export function classifyHttp(status: number, retryAfter: string | undefined, body: string, protocol: 'otlp' | 'remote_write' = 'otlp'): ExportOutcome {
  const message = `HTTP ${status}${body ? `: ${body.slice(0, 200)}` : ''}`;
  const retryable = protocol === 'otlp' ? HTTP_RETRYABLE.has(status) : status === 429 || (status >= 500 && status < 600);
  if (!retryable) return { kind: 'permanent', status: String(status), message, errorType: `http_${status}` };
  const ms = parseRetryAfter(retryAfter);
  if (ms !== undefined) return { kind: 'throttled', status: String(status), message, retryAfterMs: ms, errorType: `http_${status}` };
  return { kind: 'retryable', status: String(status), message, errorType: `http_${status}` };
}

/** Retry-After is delay-seconds or an HTTP date. */
export function parseRetryAfter(v: string | undefined, now = Date.now()): number | undefined {
  if (!v) return undefined;
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

// gRPC status codes the OTLP spec lists as retryable.
const GRPC_RETRYABLE = new Set([1 /* CANCELLED */, 4 /* DEADLINE_EXCEEDED */, 10 /* ABORTED */, 11 /* OUT_OF_RANGE */, 14 /* UNAVAILABLE */, 15 /* DATA_LOSS */]);
const GRPC_NAMES = ['OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS',
  'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL',
  'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED'];

/**
 * gRPC: UNAVAILABLE and the other transient codes retry; RESOURCE_EXHAUSTED retries only when the server sent
 * RetryInfo (it is throttling, not out of quota for good); everything else is permanent.
 */
export function classifyGrpc(code: number, details: string, retryInfoMs: number | undefined): ExportOutcome {
  const name = GRPC_NAMES[code] ?? `CODE_${code}`;
  const message = `gRPC ${name}${details ? `: ${details}` : ''}`;
  const errorType = `grpc_${name.toLowerCase()}`;
  if (code === 8) {
    return retryInfoMs !== undefined
      ? { kind: 'throttled', status: name, message, retryAfterMs: retryInfoMs, errorType }
      : { kind: 'permanent', status: name, message, errorType };
  }
  if (GRPC_RETRYABLE.has(code)) return { kind: 'retryable', status: name, message: friendlyTransport(message, details), errorType };
  return { kind: 'permanent', status: name, message, errorType };
}

/**
 * A pre-compressed gRPC message the server refused because grpc-js sent it without going through
 * ../export/otlp-grpc/precompressed.ts (its internals changed): retryable, the transport sends it plain next.
 */
export const precompressedRefused = (): ExportOutcome => ({
  kind: 'retryable', status: 'precompressed_unsupported', errorType: 'precompressed_unsupported',
  message: 'grpc-js did not take the pre-compressed message; sending plain bytes from now on',
});

/** A queued batch that does not decompress (cannot happen with an intact CRC): dropped, never retried forever. */
export const corruptBatch = (e: unknown): ExportOutcome =>
  ({ kind: 'permanent', status: 'corrupt_batch', message: `queued batch does not decompress: ${(e as Error).message}`, errorType: 'corrupt_batch' });

/** A transport failure before any response (refused, reset, DNS, TLS handshake, timeout): retryable. */
export function classifyNetworkError(err: NodeJS.ErrnoException): ExportOutcome {
  const code = err.code ?? '';
  if (code === 'ECONNREFUSED') return { kind: 'retryable', status: 'network_error', message: 'connection refused', errorType: 'connection_refused' };
  if (code === 'ETIMEDOUT' || err.name === 'TimeoutError' || code === 'ABORT_ERR') return { kind: 'retryable', status: 'timeout', message: 'request timed out', errorType: 'timeout' };
  if (code.startsWith('ERR_TLS') || code.includes('CERT') || /certificate|SSL|TLS/i.test(err.message)) {
    return { kind: 'retryable', status: 'network_error', message: `TLS: ${err.message}`, errorType: 'tls' };
  }
  return { kind: 'retryable', status: 'network_error', message: err.message || code, errorType: code ? code.toLowerCase() : 'network' };
}

function friendlyTransport(message: string, details: string): string {
  if (/ECONNREFUSED|connection refused/i.test(details)) return 'connection refused';
  return message;
}
