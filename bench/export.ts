// bench:export — spans encoded and sent per CPU-second of the exporting process, Telegen vs the OpenTelemetry
// JS SDK on the same spans, in the same run: encoding alone (Telegen's encoder vs the SDK's
// ProtobufTraceSerializer), and end to end to a local sink (separate process) over OTLP/HTTP and OTLP/gRPC.
import { fork } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { OTLPTraceExporter as SdkHttpExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as SdkGrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { loadConfigText } from '../src/config/load.js';
import { encodeTraces } from '../src/export/proto/encode-otlp.js';
import type { Resource } from '../src/model/attributes.js';
import type { Span } from '../src/model/span.js';
import { createPipeline } from '../src/pipeline/index.js';
import { SelfMetrics } from '../src/telemetry/self-metrics.js';
import { writeBenchSection } from './lib/report.js';

const N = Number(process.env.BENCH_SPANS ?? 100_000);
const BATCH = 512;
const resource: Resource = { attributes: { 'service.name': 'checkout', 'host.name': 'bench-host', 'process.pid': 4242, 'container.id': 'c0ffee'.repeat(10) } };

function makeSpans(n: number): Span[] {
  return Array.from({ length: n }, (_, i) => {
    const t = 1_700_000_000_000_000_000n + BigInt(i) * 1_000_000n;
    const id = Buffer.alloc(16);
    id.writeUInt32BE(i, 12);
    id.writeUInt32BE(0xdeadbeef, 0);
    return {
      traceId: id, spanId: id.subarray(8), parentSpanId: Buffer.from('0102030405060708', 'hex'), name: `GET /api/v1/items/{id}`, kind: 2,
      startTimeUnixNano: t, endTimeUnixNano: t + 1_234_567n,
      attributes: { 'http.request.method': 'GET', 'url.path': `/api/v1/items/${i % 1000}`, 'http.response.status_code': 200, 'server.address': '10.0.0.7', 'server.port': 8080, 'network.protocol.version': '1.1', 'user_agent.original': 'curl/8.0' },
      status: { code: 0 }, resource, scope: { name: 'telegen/http', version: '0.1.0' },
    };
  });
}

/** The same spans as the SDK's ReadableSpan. */
function toSdk(spans: Span[]): ReadableSpan[] {
  const res = resourceFromAttributes(resource.attributes as Record<string, string | number>);
  const hr = (ns: bigint): [number, number] => [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];
  return spans.map((s) => {
    const ctx = { traceId: Buffer.from(s.traceId).toString('hex'), spanId: Buffer.from(s.spanId).toString('hex'), traceFlags: 1 };
    return {
      name: s.name, kind: 1, spanContext: () => ctx,
      parentSpanContext: { traceId: ctx.traceId, spanId: '0102030405060708', traceFlags: 1 },
      startTime: hr(s.startTimeUnixNano), endTime: hr(s.endTimeUnixNano), duration: hr(s.endTimeUnixNano - s.startTimeUnixNano),
      status: { code: 0 }, attributes: s.attributes as Record<string, string | number>, links: [], events: [], ended: true,
      resource: res, instrumentationScope: { name: 'telegen/http', version: '0.1.0' },
      droppedAttributesCount: 0, droppedEventsCount: 0, droppedLinksCount: 0,
    } as unknown as ReadableSpan;
  });
}

function cpuSeconds<T>(fn: () => T): { cpu: number; wall: number; result: T } {
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  const result = fn();
  const c = process.cpuUsage(c0);
  return { cpu: (c.user + c.system) / 1e6, wall: (performance.now() - w0) / 1000, result };
}
async function cpuSecondsAsync(fn: () => Promise<void>): Promise<{ cpu: number; wall: number }> {
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  await fn();
  const c = process.cpuUsage(c0);
  return { cpu: (c.user + c.system) / 1e6, wall: (performance.now() - w0) / 1000 };
}

const spans = makeSpans(N);
const sdkSpans = toSdk(spans);
const batches = <T>(a: T[]) => Array.from({ length: Math.ceil(a.length / BATCH) }, (_, i) => a.slice(i * BATCH, (i + 1) * BATCH));

// Encoding alone (warm up first).
for (let k = 0; k < 2; k++) for (const b of batches(spans).slice(0, 20)) encodeTraces(b);
for (const b of batches(sdkSpans).slice(0, 20)) ProtobufTraceSerializer.serializeRequest(b);
const encOurs = cpuSeconds(() => { let bytes = 0; for (const b of batches(spans)) bytes += encodeTraces(b).length; return bytes; });
const encSdk = cpuSeconds(() => { let bytes = 0; for (const b of batches(sdkSpans)) bytes += ProtobufTraceSerializer.serializeRequest(b)!.length; return bytes; });

// End to end to a sink in another process.
const sink = fork(join(import.meta.dirname, 'lib/otlp-sink.ts'), { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
const ports = await new Promise<{ http: number; grpc: number }>((r) => sink.stdout!.once('data', (d: Buffer) => r(JSON.parse(d.toString()))));

async function telegen(protocol: 'http' | 'grpc'): Promise<{ cpu: number; wall: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'telegen-bench-'));
  const config = loadConfigText(stringify({
    otlp: { endpoint: protocol === 'http' ? `http://127.0.0.1:${ports.http}` : `127.0.0.1:${ports.grpc}`, protocol, insecure: true, compression: 'none', traces: { batch_size: BATCH, queue_capacity: N } },
    queue: { directory: join(dir, 'q'), max_bytes: 2 ** 31, memory_bytes: 2 ** 31 }, file_exporter: { enabled: false },
  }), null, { env: {} }).config;
  const p = createPipeline({ config, logger: pino({ level: 'silent' }), metrics: new SelfMetrics(), resource });
  await p.start();
  const r = await cpuSecondsAsync(async () => {
    for (const b of batches(spans)) p.push('traces', b);
    const n = await p.flush();
    if (n.traces !== N) throw new Error(`telegen ${protocol}: flushed ${n.traces} of ${N}`);
  });
  await p.stop();
  return r;
}

async function sdk(protocol: 'http' | 'grpc'): Promise<{ cpu: number; wall: number }> {
  const exporter = protocol === 'http'
    ? new SdkHttpExporter({ url: `http://127.0.0.1:${ports.http}/v1/traces` })
    : new SdkGrpcExporter({ url: `http://127.0.0.1:${ports.grpc}` });
  const r = await cpuSecondsAsync(async () => {
    // Sequential batches, like a BatchSpanProcessor with one export in flight.
    for (const b of batches(sdkSpans)) {
      await new Promise<void>((res, rej) => exporter.export(b, (x) => (x.code === 0 ? res() : rej(x.error ?? new Error('export failed')))));
    }
  });
  await exporter.shutdown();
  return r;
}

const rate = (cpu: number) => Math.round(N / cpu);
const rows: string[] = [];
const line = (what: string, ours: { cpu: number; wall: number }, theirs: { cpu: number; wall: number }, peer: string) =>
  rows.push(`| ${what} | ${rate(ours.cpu).toLocaleString('en')} | ${rate(theirs.cpu).toLocaleString('en')} (${peer}) | **${(theirs.cpu / ours.cpu).toFixed(1)}×** | ${(ours.wall * 1000).toFixed(0)} / ${(theirs.wall * 1000).toFixed(0)} ms |`);
line('encode only (protobuf)', encOurs, encSdk, 'ProtobufTraceSerializer');
// Warm-up round for both, then measure.
await telegen('http'); await sdk('http');
line('end to end, OTLP/HTTP', await telegen('http'), await sdk('http'), 'exporter-trace-otlp-http, JSON');
await telegen('grpc'); await sdk('grpc');
line('end to end, OTLP/gRPC', await telegen('grpc'), await sdk('grpc'), 'exporter-trace-otlp-grpc, protobuf');
sink.kill();

const md = `${N.toLocaleString('en')} HTTP server spans (7 attributes, one resource), batches of ${BATCH}, no compression, local sink in a
separate process. Figures are spans per CPU-second of the exporting process (user + system), Telegen vs the OpenTelemetry JS SDK on the
same spans in the same run; the ratio is the SDK's CPU time over Telegen's. Telegen end to end includes its queue, batching and the
persistent segment log (every batch written to disk before it is sent). The SDK's only OTLP/HTTP trace exporter installed sends JSON.
The machine is shared with other work while this runs: figures are noisy.

| what | Telegen spans/CPU-s | SDK spans/CPU-s | ratio | wall (Telegen / SDK) |
|---|---|---|---|---|
${rows.join('\n')}

Goals: ≥ 300k spans/s per core encoding; ≥ 3× the SDK end to end.`;
console.log(md);
writeBenchSection('export', md);
