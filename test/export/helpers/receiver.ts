// A local OTLP receiver for tests, speaking the real wire formats: OTLP/HTTP (protobuf, optional gzip, optional
// TLS) and OTLP/gRPC (@grpc/grpc-js on the official method paths). It decodes every request with
// OpenTelemetry's generated decoder and can be told how to answer the next requests (errors, throttling,
// partial success).
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { decodeRequest, encodePartialSuccess, type Signal } from './otlp-decoder.js';

export interface Received {
  signal: Signal;
  headers: Record<string, string>;
  gzip: boolean;
  at: number;
  /** Recorded, but its answer was held back by `Reply.holdMs`. */
  held?: boolean;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

/** How to answer one request. */
export interface Reply {
  httpStatus?: number;
  retryAfter?: string;
  grpcCode?: number;
  /** gRPC RESOURCE_EXHAUSTED with RetryInfo of this many ms. */
  retryInfoMs?: number;
  rejected?: number;
  /**
   * Record the request, then answer only after this many ms: a receiver closed meanwhile took the data without
   * acknowledging it (what a backend that dies mid-request does; the sender retries, the data arrives twice).
   */
  holdMs?: number;
}

export interface Receiver {
  port: number;
  received: Received[];
  replies: Reply[];
  close(): Promise<void>;
}

const PATHS: Record<string, Signal> = { '/v1/traces': 'traces', '/v1/metrics': 'metrics', '/v1/logs': 'logs' };

export async function startHttpReceiver(opts: { port?: number; tls?: { key: Buffer; cert: Buffer; ca?: Buffer; requestCert?: boolean } } = {}): Promise<Receiver> {
  const received: Received[] = [];
  const replies: Reply[] = [];
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const signal = PATHS[req.url ?? ''];
      if (!signal || req.headers['content-type'] !== 'application/x-protobuf') {
        res.writeHead(404).end();
        return;
      }
      const reply = replies.shift() ?? {};
      if (reply.httpStatus && reply.httpStatus !== 200) {
        res.writeHead(reply.httpStatus, reply.retryAfter ? { 'Retry-After': reply.retryAfter } : {}).end('try later');
        return;
      }
      const gz = req.headers['content-encoding'] === 'gzip';
      const raw = Buffer.concat(chunks);
      const body = decodeRequest(signal, gz ? gunzipSync(raw) : raw);
      received.push({ signal, headers: req.headers as Record<string, string>, gzip: gz, at: Date.now(), body, ...(reply.holdMs ? { held: true } : {}) });
      const out = reply.rejected ? Buffer.from(encodePartialSuccess(signal, reply.rejected, 'some were bad')) : Buffer.alloc(0);
      const answer = () => { if (!res.destroyed) res.writeHead(200, { 'Content-Type': 'application/x-protobuf' }).end(out); };
      if (reply.holdMs) setTimeout(answer, reply.holdMs).unref();
      else answer();
    });
  };
  const server = opts.tls
    ? https.createServer({ key: opts.tls.key, cert: opts.tls.cert, ca: opts.tls.ca, requestCert: !!opts.tls.requestCert, rejectUnauthorized: !!opts.tls.requestCert }, handler)
    : http.createServer(handler);
  await new Promise<void>((r) => server.listen(opts.port ?? 0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port, received, replies,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

const SERVICES: Array<[Signal, string]> = [
  ['traces', '/opentelemetry.proto.collector.trace.v1.TraceService/Export'],
  ['metrics', '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export'],
  ['logs', '/opentelemetry.proto.collector.logs.v1.LogsService/Export'],
];

/** google.rpc.Status{code, message, details:[Any{RetryInfo{retry_delay: Duration{seconds, nanos}}}]}, hand-built. */
function retryInfoStatus(code: number, ms: number): Buffer {
  const dur = Buffer.concat([Buffer.from([0x08, Math.floor(ms / 1000)]), varintField(2, (ms % 1000) * 1e6)]);
  const retryInfo = Buffer.concat([Buffer.from([0x0a, dur.length]), dur]);
  const url = Buffer.from('type.googleapis.com/google.rpc.RetryInfo');
  const any = Buffer.concat([Buffer.from([0x0a, url.length]), url, Buffer.from([0x12, retryInfo.length]), retryInfo]);
  return Buffer.concat([Buffer.from([0x08, code]), Buffer.from([0x1a, any.length]), any]);
}

function varintField(field: number, v: number): Buffer {
  const out = [field << 3];
  while (v > 0x7f) { out.push((v & 0x7f) | 0x80); v = Math.floor(v / 128); }
  out.push(v);
  return Buffer.from(out);
}

export async function startGrpcReceiver(opts: { port?: number; tls?: { key: Buffer; cert: Buffer } } = {}): Promise<Receiver> {
  const received: Received[] = [];
  const replies: Reply[] = [];
  const server = new grpc.Server();
  for (const [signal, path] of SERVICES) {
    const def: grpc.ServiceDefinition = {
      Export: {
        path, requestStream: false, responseStream: false,
        requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b,
        responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b,
      },
    };
    server.addService(def, {
      Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
        const reply = replies.shift() ?? {};
        if (reply.grpcCode) {
          const md = new grpc.Metadata();
          if (reply.retryInfoMs !== undefined) md.set('grpc-status-details-bin', retryInfoStatus(reply.grpcCode, reply.retryInfoMs));
          cb({ code: reply.grpcCode, details: 'receiver says no', metadata: md });
          return;
        }
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(call.metadata.getMap())) headers[k] = String(v);
        received.push({ signal, headers, gzip: headers['grpc-encoding'] === 'gzip', at: Date.now(), body: decodeRequest(signal, call.request), ...(reply.holdMs ? { held: true } : {}) });
        const answer = () => { if (!call.cancelled) cb(null, reply.rejected ? Buffer.from(encodePartialSuccess(signal, reply.rejected, 'some were bad')) : Buffer.alloc(0)); };
        if (reply.holdMs) setTimeout(answer, reply.holdMs).unref();
        else answer();
      },
    });
  }
  const creds = opts.tls ? grpc.ServerCredentials.createSsl(null, [{ private_key: opts.tls.key, cert_chain: opts.tls.cert }]) : grpc.ServerCredentials.createInsecure();
  const port = await new Promise<number>((res, rej) => server.bindAsync(`127.0.0.1:${opts.port ?? 0}`, creds, (e, p) => (e ? rej(e) : res(p))));
  return {
    port, received, replies,
    close: () => new Promise<void>((r) => {
      server.forceShutdown();
      r();
    }),
  };
}
