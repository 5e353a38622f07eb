// OTLP/gRPC with @grpc/grpc-js: unary calls on the official service methods
// (opentelemetry.proto.collector.<signal>.v1.<Signal>Service/Export), the request body being the encoded
// ExportXServiceRequest. gzip: the call is marked gzip by grpc-js (the channel's default compression) and the
// batches arrive compressed already, at level 1, from the pipeline (./precompressed.ts); TLS via grpc-js SSL
// credentials.
import { createRequire } from 'node:module';
import { gunzipSync, gzipSync } from 'node:zlib';
import type * as Grpc from '@grpc/grpc-js';
import type { OtlpTransport } from '../exporter.js';
import { classifyGrpc, corruptBatch, ok, precompressedRefused, type ExportOutcome } from '../outcome.js';
import { allFields, decodePartialSuccess } from '../proto/response.js';
import { GZIP_LEVEL, type OtlpSettings, type OtlpSignal } from '../settings.js';
import { handledHere, installPrecompressedSend, markGzipped } from './precompressed.js';

export const GRPC_METHODS: Record<OtlpSignal, string> = {
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
};

const identity = (b: Buffer): Buffer => b;
/** What a receiver answers to a message it cannot decode: UNKNOWN, INVALID_ARGUMENT, INTERNAL. */
const REFUSED_PAYLOAD = new Set([2, 3, 13]);

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
  // Without it (grpc-js internals changed) grpc-js compresses plain bytes itself, at its own level.
  let precompressed = s.compression === 'gzip' && installPrecompressedSend();
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
    const marked = precompressed;
    if (marked) {
      // A batch queued plain (before a reload turned gzip on) is compressed here, once.
      body = markGzipped(gzipped ? body : gzipSync(body, { level: GZIP_LEVEL }));
    } else if (gzipped) {
      // Queued compressed, sent plain: compression is off now, or grpc-js compresses it itself.
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
          if (marked && !handledHere(body) && (!err || REFUSED_PAYLOAD.has(err.code))) {
            // The server got the message, but grpc-js did not frame it through precompressed.ts: the gzip bytes
            // went out as they were, and were refused. From now on grpc-js compresses plain bytes itself; this
            // batch is sent again. (A call that never reached the server — refused, timed out connecting — says
            // nothing about this and is classified as usual.)
            precompressed = false;
            resolve(precompressedRefused());
            return;
          }
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
