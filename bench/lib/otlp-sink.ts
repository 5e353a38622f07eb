// A minimal OTLP sink for benchmarks (run as a separate process so its CPU is not counted): accepts OTLP/HTTP
// and OTLP/gRPC trace exports, counts bytes and requests, answers success without decoding.
//
// SINK_H2_WINDOW (bytes, default: HTTP/2's 64 KiB): the gRPC server's receive window, per stream and for the
// connection. A grpc-js server keeps HTTP/2's initial 64 KiB, so a 151 KiB message needs three window-update
// round trips; the OpenTelemetry Collector (grpc-go) starts at 64 KiB too but grows its windows by BDP probing
// (up to 16 MiB), so under a steady stream of large messages a collector soon advertises a window larger than
// one message. The same sink, with the same setting, serves both sides of a comparison.
import type { Http2Server, ServerHttp2Session } from 'node:http2';
import http from 'node:http';
import * as grpc from '@grpc/grpc-js';

const H2_WINDOW = Number(process.env.SINK_H2_WINDOW ?? 0);

let requests = 0;
const httpServer = http.createServer((req, res) => {
  req.on('data', () => undefined);
  req.on('end', () => {
    requests++;
    res.writeHead(200, { 'Content-Type': req.headers['content-type'] ?? 'application/x-protobuf' }).end(req.headers['content-type'] === 'application/json' ? '{}' : '');
  });
});
await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', r));
const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
const id = (b: Buffer) => b;
server.addService({
  Export: { path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export', requestStream: false, responseStream: false, requestSerialize: id, requestDeserialize: id, responseSerialize: id, responseDeserialize: id },
}, { Export: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => { requests++; cb(null, Buffer.alloc(0)); } });
const grpcPort = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
if (H2_WINDOW > 65_535) {
  // grpc-js has no server option for the window; its HTTP/2 servers are reached through a private field (a
  // benchmark sink only: fail loudly if a grpc-js upgrade removes it rather than silently measure without).
  const h2 = (server as unknown as { http2Servers?: Map<Http2Server, unknown> }).http2Servers;
  if (!(h2 instanceof Map) || h2.size === 0) throw new Error('otlp-sink: grpc-js Server.http2Servers not found; cannot set SINK_H2_WINDOW');
  for (const s of h2.keys()) {
    s.on('session', (session: ServerHttp2Session) => {
      session.settings({ initialWindowSize: Math.min(H2_WINDOW, 2 ** 31 - 1) });
      session.setLocalWindowSize(H2_WINDOW);
    });
  }
}
process.stdout.write(`${JSON.stringify({ http: (httpServer.address() as { port: number }).port, grpc: grpcPort })}\n`);
process.on('message', () => process.send?.({ requests }));
// Never outlive the benchmark.
process.on('disconnect', () => process.exit(0));
