// bench:export — spans encoded and sent per CPU-second of the exporting process, Telegen vs the OpenTelemetry
// JS SDK on the same spans, in the same run: encoding alone (Telegen's encoder vs the SDK's
// ProtobufTraceSerializer), and end to end to a local sink (separate process) over OTLP/HTTP protobuf and
// OTLP/gRPC, with the same compression and the same batch size on both sides; Telegen with its persistent
// queue on (default) and off. Each end-to-end figure is the median of ROUNDS runs, the two sides alternating.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { constants as perfConstants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { OTLPTraceExporter as SdkHttpExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as SdkGrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import type { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { loadConfigText } from '../src/config/load.js';
import { GZIP_LEVEL } from '../src/export/otlp-http/transport.js';
import { encodeTraces } from '../src/export/proto/encode-otlp.js';
import type { Resource } from '../src/model/attributes.js';
import { makeSpans } from './lib/bench-spans.js';
import type { Span } from '../src/model/span.js';
import { createPipeline } from '../src/pipeline/index.js';
import { SelfMetrics } from '../src/telemetry/self-metrics.js';
import { writeBenchSection } from './lib/report.js';

const N = Number(process.env.BENCH_SPANS ?? 100_000);
/** 512: the default of both Telegen (otlp.traces.batch_size) and the SDK's BatchSpanProcessor (maxExportBatchSize). */
const BATCH = 512;
/** End to end at these batch sizes, the same on both sides. */
const E2E_BATCHES = (process.env.BENCH_BATCHES ?? '512,2048').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** Restrict the end-to-end rows (for a quick look at one transport); the docs are only rewritten with all of them. */
const PROTOCOLS = (process.env.BENCH_PROTOCOLS ?? 'http,grpc').split(',') as Array<'http' | 'grpc'>;
const COMPRESSIONS = (process.env.BENCH_COMPRESSIONS ?? 'none,gzip').split(',') as Array<'none' | 'gzip'>;
const resource: Resource = { attributes: { 'service.name': 'checkout', 'host.name': 'bench-host', 'process.pid': 4242, 'container.id': 'c0ffee'.repeat(10) } };


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

// A full GC before each measured run, outside the window, then a pause so concurrent sweeping is done: without
// it, GC work caused by one run (e.g. concurrent marking after the SDK's allocations) is charged to the next one.
// (Not at the end inside the window: a full GC marks the whole benchmark heap, 200k prepared spans, a fixed
// cost that would swamp what is measured.)
v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
async function settle(): Promise<void> {
  gc();
  await sleep(50);
}

async function cpuSeconds<T>(fn: () => T): Promise<{ cpu: number; wall: number; result: T }> {
  await settle();
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  const result = fn();
  const c = process.cpuUsage(c0);
  return { cpu: (c.user + c.system) / 1e6, wall: (performance.now() - w0) / 1000, result };
}
// When full (mark-compact) GCs ran, on the performance.now() clock: counted per measured run, because one of
// them over the benchmark's heap costs a large share of a run and explains most of the spread between runs.
const fullGcs: number[] = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    if (((e as PerformanceEntry & { detail?: { kind?: number } }).detail)?.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) fullGcs.push(e.startTime);
  }
}).observe({ entryTypes: ['gc'] });
const fullGcsIn = (r: Run) => fullGcs.filter((t) => t >= r.t0 && t <= r.t1).length;

async function cpuSecondsAsync(fn: () => Promise<void>): Promise<Run> {
  await settle();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const c = process.cpuUsage(c0);
  const t1 = performance.now();
  return { cpu: (c.user + c.system) / 1e6, wall: (t1 - t0) / 1000, t0, t1 };
}

const spans = makeSpans(N, resource);
const sdkSpans = toSdk(spans);
const batches = <T>(a: T[], size = BATCH) => Array.from({ length: Math.ceil(a.length / size) }, (_, i) => a.slice(i * size, (i + 1) * size));

// Encoding alone (warm up first).
for (let k = 0; k < 2; k++) for (const b of batches(spans).slice(0, 20)) encodeTraces(b);
for (const b of batches(sdkSpans).slice(0, 20)) ProtobufTraceSerializer.serializeRequest(b);
const encOurs = await cpuSeconds(() => { let bytes = 0; for (const b of batches(spans)) bytes += encodeTraces(b).length; return bytes; });
const encSdk = await cpuSeconds(() => { let bytes = 0; for (const b of batches(sdkSpans)) bytes += ProtobufTraceSerializer.serializeRequest(b)!.length; return bytes; });

// What gzip costs on these requests, at Telegen's OTLP/HTTP level and at zlib's default (the SDK's).
const sample = batches(spans).slice(0, 40).map((b) => encodeTraces(b));
const gz = async (level: number) => {
  const r = await cpuSeconds(() => sample.reduce((n, b) => n + gzipSync(b, { level }).length, 0));
  return { usPerBatch: (r.cpu * 1e6) / sample.length, ratio: r.result / sample.reduce((n, b) => n + b.length, 0) };
};
await gz(GZIP_LEVEL);
const gzFast = await gz(GZIP_LEVEL);
const gzDefault = await gz(6);

// End to end to a sink in another process.
const sink = fork(join(import.meta.dirname, 'lib/otlp-sink.ts'), { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
const ports = await new Promise<{ http: number; grpc: number }>((r) => sink.stdout!.once('data', (d: Buffer) => r(JSON.parse(d.toString()))));

type Protocol = 'http' | 'grpc';
type Compression = 'none' | 'gzip';
type Run = { cpu: number; wall: number; t0: number; t1: number };

async function telegen(protocol: Protocol, compression: Compression, persistent: boolean, size: number): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'telegen-bench-'));
  const config = loadConfigText(stringify({
    otlp: { endpoint: protocol === 'http' ? `http://127.0.0.1:${ports.http}` : `127.0.0.1:${ports.grpc}`, protocol, insecure: true, compression, traces: { batch_size: size, queue_capacity: N } },
    queue: { directory: join(dir, 'q'), persistent, max_bytes: 2 ** 31, memory_bytes: 2 ** 31 }, file_exporter: { enabled: false },
  }), null, { env: {} }).config;
  const p = createPipeline({ config, logger: pino({ level: 'silent' }), metrics: new SelfMetrics(), resource });
  await p.start();
  const r = await cpuSecondsAsync(async () => {
    for (const b of batches(spans, size)) p.push('traces', b);
    const n = await p.flush();
    if (n.traces !== N) throw new Error(`telegen ${protocol}: flushed ${n.traces} of ${N}`);
  });
  await p.stop();
  rmSync(dir, { recursive: true, force: true });
  return r;
}

async function sdk(protocol: Protocol, compression: Compression, size: number): Promise<Run> {
  const c = compression as CompressionAlgorithm;
  const exporter = protocol === 'http'
    ? new SdkHttpExporter({ url: `http://127.0.0.1:${ports.http}/v1/traces`, compression: c })
    : new SdkGrpcExporter({ url: `http://127.0.0.1:${ports.grpc}`, compression: c });
  const r = await cpuSecondsAsync(async () => {
    // Sequential batches, like a BatchSpanProcessor with one export in flight.
    for (const b of batches(sdkSpans, size)) {
      await new Promise<void>((res, rej) => exporter.export(b, (x) => (x.code === 0 ? res() : rej(x.error ?? new Error('export failed')))));
    }
  });
  await exporter.shutdown();
  return r;
}

const median = (runs: Run[]): Run => {
  const sorted = [...runs].sort((a, b) => a.cpu - b.cpu);
  return sorted[Math.floor(sorted.length / 2)]!;
};
const rate = (cpu: number) => Math.round(N / cpu);
const fmt = (r: { cpu: number }) => rate(r.cpu).toLocaleString('en');
const ratio = (ours: { cpu: number }, theirs: { cpu: number }) => `**${(theirs.cpu / ours.cpu).toFixed(1)}×**`;

const rows: string[] = [];
/** Every measured run of each row: spans/CPU-s, one * per full GC inside the run. */
const spread: string[] = [];
rows.push(`| encode only (protobuf) | ${BATCH} | — | ${fmt(encOurs)} | — | ${fmt(encSdk)} (ProtobufTraceSerializer) | ${ratio(encOurs, encSdk)} | — |`);
for (const size of E2E_BATCHES) {
  for (const protocol of PROTOCOLS) {
    for (const compression of COMPRESSIONS) {
      const variants: Array<[Run[], () => Promise<Run>]> = [
        [[], () => telegen(protocol, compression, true, size)],
        [[], () => telegen(protocol, compression, false, size)],
        [[], () => sdk(protocol, compression, size)],
      ];
      // A warm-up run of each, then ROUNDS measured rounds; the order rotates every round.
      for (const [, run] of variants) await run();
      for (let i = 0; i < ROUNDS; i++) {
        for (let k = 0; k < variants.length; k++) {
          const [runs, run] = variants[(i + k) % variants.length]!;
          runs.push(await run());
        }
      }
      const [a, b, c] = variants.map(([runs]) => median(runs)) as [Run, Run, Run];
      await settle(); // delivers the GC entries of the last run
      const detail = variants.map(([runs]) => runs.map((r) => `${Math.round(rate(r.cpu) / 1000)}k${'*'.repeat(fullGcsIn(r))}`).join(' '));
      spread.push(`${protocol === 'http' ? 'HTTP' : 'gRPC'} ${size} ${compression}: ${detail.join(' · ')}`);
      console.error(spread.at(-1));
      const name = protocol === 'http' ? 'OTLP/HTTP protobuf' : 'OTLP/gRPC';
      const peerName = protocol === 'http' ? 'exporter-trace-otlp-proto' : 'exporter-trace-otlp-grpc';
      rows.push(`| end to end, ${name} | ${size} | ${compression} | ${fmt(a)} | ${fmt(b)} | ${fmt(c)} (${peerName}) | ${ratio(a, c)} | ${ratio(b, c)} |`);
      console.error(rows.at(-1));
    }
  }
}
sink.kill();

const md = `${N.toLocaleString('en')} HTTP server spans (7 attributes, one resource), the same batch size on both sides, a local sink in a
separate process that answers without decoding. Figures are spans per CPU-second of the exporting process: user + system of
\`process.cpuUsage()\`, which includes its GC and libuv threads (gzip); a full GC runs before every measured run, outside it.
Telegen vs the OpenTelemetry JS SDK exporters on the same spans in the same run, with the same compression setting; ratio = SDK
CPU time / Telegen CPU time. End-to-end figures are the median of ${ROUNDS} runs, the three variants in rotating order.

- Telegen end to end starts at \`push\`: in-memory queue, batching, encoding, then either the persistent segment log (default:
  each batch appended with its CRC before it counts as accepted — compressed first with OTLP/HTTP + gzip —, read back from the
  page cache to be sent, deleted after the ack) or, in the "in memory" column, \`queue.persistent: false\`.
- The SDK side starts at \`exporter.export\` (its span processor's queue is not counted). One request in flight on both sides.
- Runs are bimodal: a full (mark-compact) GC, whose cost grows with the benchmark's own heap of 200k prepared spans (~190 MB),
  lands in some runs and not in others (list below). Over OTLP/gRPC it is brought on by grpc-js' copy of every message into a
  new \`5 + length\` frame (151 KiB per 512-span batch, 30 MB per run) that no scavenge reclaims during a Telegen run (its own path
  allocates no buffer per batch: \`bench/lib/export-allocs.ts\`; see docs/export.md). The machine may be shared with other
  work. Read ±25 % on any single figure.

| what | batch | compression | Telegen, persistent queue | Telegen, in memory | SDK | ratio (persistent) | ratio (in memory) |
|---|---|---|---|---|---|---|---|
${rows.join('\n')}

Every measured run, in thousands of spans/CPU-s, one \`*\` per full GC that ran inside it (Telegen persistent · Telegen in memory · SDK):
${spread.map((l) => `- ${l}`).join('\n')}

gzip: Telegen's OTLP/HTTP transport uses level ${GZIP_LEVEL}, the SDK's zlib's default (6); OTLP/gRPC compresses inside grpc-js at zlib's
default level on both sides (grpc-js has no setting for the level and no public way to send a message compressed beforehand). Measured alone on these requests, level ${GZIP_LEVEL} costs ${gzFast.usPerBatch.toFixed(0)} µs of CPU per ${BATCH}-span batch for ${(gzFast.ratio * 100).toFixed(1)} % of
the size, level 6 ${gzDefault.usPerBatch.toFixed(0)} µs for ${(gzDefault.ratio * 100).toFixed(1)} %.

Goals: ≥ 300k spans/s per core encoding; ≥ 3× the SDK end to end. See docs/export.md ("Performance") for where the time goes.`;
console.log(md);
if (process.env.BENCH_PROTOCOLS || process.env.BENCH_COMPRESSIONS) console.error('partial run (BENCH_PROTOCOLS/BENCH_COMPRESSIONS): docs/benchmarks.md left as it is');
else writeBenchSection('export', md);
