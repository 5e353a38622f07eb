// A minimal OTLP sink for benchmarks (run as a separate process so its CPU is not counted): accepts OTLP/HTTP
// and OTLP/gRPC trace exports, counts bytes and requests, answers success without decoding.
import http from 'node:http';
import * as grpc from '@grpc/grpc-js';

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
process.stdout.write(`${JSON.stringify({ http: (httpServer.address() as { port: number }).port, grpc: grpcPort })}\n`);
process.on('message', () => process.send?.({ requests }));
// Never outlive the benchmark.
process.on('disconnect', () => process.exit(0));
