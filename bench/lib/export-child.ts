// One measured exporter of bench:export in its own process (forked by bench/export.ts): it holds only its own
// prepared spans, so a full GC during its runs marks its own heap and nobody else's. One child per variant
// (Telegen with the persistent queue, Telegen in memory, the SDK exporter) per table row; the parent sends
// `{ op: 'run' }` (or `{ op: 'encode' }`) and gets back the CPU time of that run and the full GCs inside it.
//
// The fixture is FIXTURE distinct spans (default 16,384: 32 batches of 512, 8 of 2048), sent in turn until
// the run has sent `spans` spans: the same spans, the same order and the same batches on both sides.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
import { loadConfigText } from '../../src/config/load.js';
import { encodeTraces } from '../../src/export/proto/encode-otlp.js';
import type { Resource } from '../../src/model/attributes.js';
import type { Span } from '../../src/model/span.js';
import { createPipeline, type TelegenPipeline } from '../../src/pipeline/index.js';
import { SelfMetrics } from '../../src/telemetry/self-metrics.js';
import { makeSpans } from './bench-spans.js';

export type Role = 'telegen' | 'sdk';
export type Protocol = 'http' | 'grpc';
export type Compression = 'none' | 'gzip';
export interface ChildSpec {
  role: Role;
  protocol: Protocol;
  compression: Compression;
  /** Telegen only: queue.persistent. */
  persistent: boolean;
  /** Spans per batch, the same on both sides. */
  size: number;
  /** Spans sent per run. */
  spans: number;
  fixture: number;
  ports: { http: number; grpc: number };
}
export interface ChildRun {
  cpu: number;
  wall: number;
  fullGcs: number;
  /** Encode-only runs: bytes produced. */
  bytes?: number;
}

export const BENCH_RESOURCE: Resource = { attributes: { 'service.name': 'checkout', 'host.name': 'bench-host', 'process.pid': 4242, 'container.id': 'c0ffee'.repeat(10) } };

/** The same spans as the SDK's ReadableSpan. */
export function toSdk(spans: Span[], resource: Resource): ReadableSpan[] {
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

/** The batches of one run: `total` spans cut from the fixture in order, wrapping around. */
export function runBatches<T>(fixture: T[], size: number, total: number): T[][] {
  const perFixture = Math.floor(fixture.length / size);
  if (perFixture < 1) throw new Error(`fixture of ${fixture.length} spans is smaller than one batch of ${size}`);
  const out: T[][] = [];
  for (let sent = 0, j = 0; sent < total; j++) {
    const n = Math.min(size, total - sent);
    const start = (j % perFixture) * size;
    out.push(fixture.slice(start, start + n));
    sent += n;
  }
  return out;
}

// A full GC before each measured run, outside the window, then a pause so concurrent sweeping is done: without
// it, GC work caused by one run is charged to the next one.
v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const fullGcTimes: number[] = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    if (((e as PerformanceEntry & { detail?: { kind?: number } }).detail)?.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) fullGcTimes.push(e.startTime);
  }
}).observe({ entryTypes: ['gc'] });

const GC_MODE = process.env.BENCH_GC ?? 'none';
async function measured(fn: () => Promise<number | void>): Promise<ChildRun> {
  if (GC_MODE !== 'none') {
    gc();
    await sleep(50);
  }
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const bytes = await fn();
  if (GC_MODE === 'both') {
    gc();
    await sleep(50);
  }
  const c = process.cpuUsage(c0);
  const t1 = performance.now();
  await sleep(20); // GC entries are delivered asynchronously
  return { cpu: (c.user + c.system) / 1e6, wall: (t1 - t0) / 1000, fullGcs: fullGcTimes.filter((t) => t >= t0 && t <= t1).length, ...(bytes ? { bytes } : {}) };
}

async function telegenChild(spec: ChildSpec): Promise<{ run: () => Promise<ChildRun>; encode: () => Promise<ChildRun> }> {
  const fixture = makeSpans(spec.fixture, BENCH_RESOURCE);
  const batches = runBatches(fixture, spec.size, spec.spans);
  const run = async (): Promise<ChildRun> => {
    const dir = mkdtempSync(join(tmpdir(), 'telegen-bench-'));
    const config = loadConfigText(stringify({
      otlp: {
        endpoint: spec.protocol === 'http' ? `http://127.0.0.1:${spec.ports.http}` : `127.0.0.1:${spec.ports.grpc}`,
        protocol: spec.protocol, insecure: true, compression: spec.compression, traces: { batch_size: spec.size, queue_capacity: spec.spans },
      },
      queue: { directory: join(dir, 'q'), persistent: spec.persistent, max_bytes: 2 ** 31, memory_bytes: 2 ** 31 }, file_exporter: { enabled: false },
    }), null, { env: {} }).config;
    const p: TelegenPipeline = createPipeline({ config, logger: pino({ level: 'silent' }), metrics: new SelfMetrics(), resource: BENCH_RESOURCE });
    await p.start();
    const r = await measured(async () => {
      for (const b of batches) p.push('traces', b);
      const n = await p.flush();
      if (n.traces !== spec.spans) throw new Error(`telegen ${spec.protocol}: flushed ${n.traces} of ${spec.spans}`);
    });
    await p.stop();
    rmSync(dir, { recursive: true, force: true });
    return r;
  };
  const encode = () => measured(async () => batches.reduce((n, b) => n + encodeTraces(b).length, 0));
  return { run, encode };
}

async function sdkChild(spec: ChildSpec): Promise<{ run: () => Promise<ChildRun>; encode: () => Promise<ChildRun> }> {
  const fixture = toSdk(makeSpans(spec.fixture, BENCH_RESOURCE), BENCH_RESOURCE);
  const batches = runBatches(fixture, spec.size, spec.spans);
  const run = async (): Promise<ChildRun> => {
    const c = spec.compression as CompressionAlgorithm;
    const exporter = spec.protocol === 'http'
      ? new SdkHttpExporter({ url: `http://127.0.0.1:${spec.ports.http}/v1/traces`, compression: c })
      : new SdkGrpcExporter({ url: `http://127.0.0.1:${spec.ports.grpc}`, compression: c });
    const r = await measured(async () => {
      // Sequential batches, like a BatchSpanProcessor with one export in flight.
      for (const b of batches) {
        await new Promise<void>((res, rej) => exporter.export(b, (x) => (x.code === 0 ? res() : rej(x.error ?? new Error('export failed')))));
      }
    });
    await exporter.shutdown();
    return r;
  };
  const encode = () => measured(async () => batches.reduce((n, b) => n + ProtobufTraceSerializer.serializeRequest(b)!.length, 0));
  return { run, encode };
}

if (process.send) {
  const spec = JSON.parse(process.env.BENCH_EXPORT_CHILD ?? 'null') as ChildSpec | null;
  if (!spec) throw new Error('BENCH_EXPORT_CHILD not set');
  const child = spec.role === 'telegen' ? await telegenChild(spec) : await sdkChild(spec);
  process.on('message', (m: { op: 'run' | 'encode' }) => {
    (m.op === 'encode' ? child.encode() : child.run()).then(
      (r) => process.send!({ ok: r }),
      (e: unknown) => process.send!({ error: String(e instanceof Error ? e.stack : e) }),
    );
  });
  process.on('disconnect', () => process.exit(0));
  process.send({ ready: true });
}
