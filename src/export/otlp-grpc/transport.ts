// OTLP/gRPC with @grpc/grpc-js: unary calls on the official service methods
// (opentelemetry.proto.collector.<signal>.v1.<Signal>Service/Export), the request body being the encoded
// ExportXServiceRequest. gzip via the channel's default compression; TLS via grpc-js SSL credentials.
import { createRequire } from 'node:module';
import { gunzipSync } from 'node:zlib';
import type * as Grpc from '@grpc/grpc-js';
import type { OtlpTransport } from '../exporter.js';
import { classifyGrpc, corruptBatch, ok, type ExportOutcome } from '../outcome.js';
import { allFields, decodePartialSuccess } from '../proto/response.js';
import type { OtlpSettings, OtlpSignal } from '../settings.js';

export const GRPC_METHODS: Record<OtlpSignal, string> = {
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
};

const identity = (b: Buffer): Buffer => b;

/**
 * grpc-js is loaded on first use: an agent without an OTLP/gRPC endpoint (the default) never pays for it
 * (~5 MB of RSS: its code, compiled, and its protobuf descriptors).
 */
let grpcModule: typeof Grpc | undefined;
function grpcJs(): typeof Grpc {
  return (grpcModule ??= createRequire(import.meta.url)('@grpc/grpc-js') as typeof Grpc);
}

export function createGrpcTransport(s: OtlpSettings): OtlpTransport {
  const grpc = grpcJs();
  const creds = s.tls
    ? grpc.credentials.createSsl(s.ca ?? null, s.key ?? null, s.cert ?? null,
      s.rejectUnauthorized ? {} : { rejectUnauthorized: false, checkServerIdentity: () => undefined })
    : grpc.credentials.createInsecure();
  const client = new grpc.Client(s.target, creds, {
    // 2 = gzip in grpc-js' CompressionAlgorithms.
    ...(s.compression === 'gzip' ? { 'grpc.default_compression_algorithm': 2 } : {}),
    'grpc.max_send_message_length': 64 * 1024 * 1024,
    'grpc.keepalive_time_ms': 60_000,
    // Retries are decided in one place, the pipeline's retry wrapper (../outcome.ts): grpc-js' own retry layer
    // (transparent retries, a retry buffer holding each message until the call commits) only adds per-call work.
    'grpc.enable_retries': 0,
    // No channelz bookkeeping (per-call counters and traces nobody queries here).
    'grpc.enable_channelz': 0,
  });

  function send(signal: OtlpSignal, body: Buffer, timeoutMs: number, gzipped = false): Promise<ExportOutcome> {
    // grpc-js compresses messages itself: a batch queued compressed (OTLP/HTTP with gzip before a reload) goes
    // in as plain protobuf.
    if (gzipped) {
      try {
        body = gunzipSync(body);
      } catch (e) {
        return Promise.resolve(corruptBatch(e));
      }
    }
    const md = new grpc.Metadata();
    for (const [k, v] of Object.entries(s.headers)) md.set(k.toLowerCase(), v);
    return new Promise((resolve) => {
      client.makeUnaryRequest(GRPC_METHODS[signal], identity, identity, body, md,
        { deadline: Date.now() + timeoutMs },
        (err: Grpc.ServiceError | null, res?: Buffer) => {
          if (err) {
            resolve(classifyGrpc(err.code, err.details, retryInfoMs(err.metadata)));
            return;
          }
          const ps = decodePartialSuccess(res ?? Buffer.alloc(0));
          resolve(ok(ps.rejected, ps.message || undefined));
        });
    });
  }

  return {
    send,
    async close() {
      client.close();
    },
  };
}

const RETRY_INFO = 'type.googleapis.com/google.rpc.RetryInfo';

/** RetryInfo.retry_delay from the grpc-status-details-bin trailer (google.rpc.Status details), in ms. */
export function retryInfoMs(md: Grpc.Metadata | undefined): number | undefined {
  const raw = md?.get('grpc-status-details-bin')[0];
  if (!(raw instanceof Buffer)) return undefined;
  try {
    for (const [f, any] of allFields(raw)) {
      if (f !== 3 || !(any instanceof Uint8Array)) continue;
      const parts = allFields(any);
      const url = parts.find(([n]) => n === 1)?.[1];
      const value = parts.find(([n]) => n === 2)?.[1];
      if (!(url instanceof Uint8Array) || Buffer.from(url).toString() !== RETRY_INFO || !(value instanceof Uint8Array)) continue;
      const delay = allFields(value).find(([n]) => n === 1)?.[1];
      if (!(delay instanceof Uint8Array)) return 0;
      const d = allFields(delay);
      const sec = d.find(([n]) => n === 1)?.[1];
      const nanos = d.find(([n]) => n === 2)?.[1];
      return (typeof sec === 'number' ? sec * 1000 : 0) + (typeof nanos === 'number' ? Math.round(nanos / 1e6) : 0);
    }
  } catch {
    return undefined;
  }
  return undefined;
}
