// Diagnostic (not a benchmark): what one batch allocates outside V8's heap on each export path. V8 starts a full
// (mark-compact) GC when external memory has grown by ~64 MB since the last one, and every fresh ArrayBuffer of
// 4 KiB or more (smaller ones are cut from Buffer's shared pool) counts until a GC frees it. For each path
// (OTLP/HTTP, OTLP/gRPC × none, gzip × persistent, in-memory queue) it sends BATCHES batches through
// `createPipeline` to bench/lib/otlp-sink.ts and reports, per batch:
// - the ArrayBuffer bytes allocated (`process.memoryUsage().arrayBuffers` growth over a window without any GC:
//   run with a large young generation, `node --max-semi-space-size=256 --import tsx bench/lib/export-allocs.ts`,
//   which also counts buffers allocated in native code, e.g. HTTP/2 reads);
// - the JS-side allocations ≥ 4 KiB (Buffer.allocUnsafe / allocUnsafeSlow / alloc wrapped; Buffer.concat and
//   zlib allocate through them), by caller.
// ALLOC_BACKLOG=1 pushes all BATCHES batches before one flush (a backlog, as bench:export does) instead of one
// batch per flush.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { constants as perfConstants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { loadConfigText } from '../../src/config/load.js';
import type { Resource } from '../../src/model/attributes.js';
import { makeSpans } from './bench-spans.js';
import { createPipeline } from '../../src/pipeline/index.js';
import { SelfMetrics } from '../../src/telemetry/self-metrics.js';

const SPANS = Number(process.env.ALLOC_BATCH ?? 512);
const BATCHES = Number(process.env.ALLOC_BATCHES ?? 40);
const MIN = 4096;
const BACKLOG = process.env.ALLOC_BACKLOG === '1';
const resource: Resource = { attributes: { 'service.name': 'checkout', 'host.name': 'bench-host', 'process.pid': 4242 } };


// --- JS-side allocation tracking ---
let recording = false;
const byCaller = new Map<string, { n: number; bytes: number }>();
const root = join(import.meta.dirname, '../..');
function caller(): string {
  const frames = (new Error().stack ?? '').split('\n').slice(3).map((l) => l.trim().replace(/^at /, ''));
  const pick = frames.filter((f) => !f.includes('export-allocs.ts')).slice(0, 3)
    .map((f) => f.replace(/\(?file:\/\/|\)$/g, '').replace(root + '/', '').replace(/node_modules\/@grpc\/grpc-js\/build\/src\//, 'grpc-js/').replace(/:\d+\)?$/, ''));
  return pick.join(' < ');
}
function track(size: number): void {
  if (!recording || size < MIN) return;
  const k = caller();
  const e = byCaller.get(k) ?? { n: 0, bytes: 0 };
  e.n++;
  e.bytes += size;
  byCaller.set(k, e);
}
const B = Buffer as unknown as Record<string, (...a: unknown[]) => Buffer>;
for (const name of ['allocUnsafe', 'allocUnsafeSlow', 'alloc'] as const) {
  const orig = B[name]!;
  B[name] = function (this: unknown, ...a: unknown[]) {
    track(Number(a[0]));
    return orig.apply(this, a);
  };
}

// --- GC tracking ---
v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const gcs: Array<{ t: number; major: boolean }> = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcs.push({ t: e.startTime, major: (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR });
}).observe({ entryTypes: ['gc'] });

const sink = fork(join(import.meta.dirname, 'otlp-sink.ts'), { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
const ports = await new Promise<{ http: number; grpc: number }>((r) => sink.stdout!.once('data', (d: Buffer) => r(JSON.parse(d.toString()))));
const spans = makeSpans(SPANS, resource);

for (const protocol of ['http', 'grpc'] as const) {
  for (const compression of ['none', 'gzip'] as const) {
    for (const persistent of [true, false]) {
      const dir = mkdtempSync(join(tmpdir(), 'telegen-allocs-'));
      const config = loadConfigText(stringify({
        otlp: { endpoint: protocol === 'http' ? `http://127.0.0.1:${ports.http}` : `127.0.0.1:${ports.grpc}`, protocol, insecure: true, compression, traces: { batch_size: SPANS, queue_capacity: SPANS * BATCHES } },
        queue: { directory: join(dir, 'q'), persistent, max_bytes: 2 ** 31, memory_bytes: 2 ** 31 }, file_exporter: { enabled: false },
      }), null, { env: {} }).config;
      const p = createPipeline({ config, logger: pino({ level: 'silent' }), metrics: new SelfMetrics(), resource });
      await p.start();
      const one = async (k: number) => {
        for (let i = 0; i < k; i++) p.push('traces', spans);
        const n = await p.flush();
        if (n.traces !== SPANS * k) throw new Error(`flushed ${n.traces}`);
      };
      const rounds = (k: number) => (BACKLOG ? one(k) : (async () => { for (let i = 0; i < k; i++) await one(1); })());
      await rounds(10);
      gc();
      await sleep(50);
      byCaller.clear();
      const gc0 = gcs.length;
      const ab0 = process.memoryUsage().arrayBuffers;
      recording = true;
      await rounds(BATCHES);
      recording = false;
      const grown = process.memoryUsage().arrayBuffers - ab0;
      await sleep(10);
      const during = gcs.slice(gc0);
      await p.stop();
      rmSync(dir, { recursive: true, force: true });
      const js = [...byCaller.values()].reduce((a, e) => ({ n: a.n + e.n, bytes: a.bytes + e.bytes }), { n: 0, bytes: 0 });
      console.log(`\n${BACKLOG ? 'backlog ' : ''}${protocol} ${compression} ${persistent ? 'persistent' : 'in-memory'}: ArrayBuffer growth ${(grown / BATCHES / 1024).toFixed(1)} KiB/batch`
        + `${during.length ? ` (INVALID: ${during.length} GCs in the window)` : ''}; JS allocations ≥ 4 KiB: ${(js.n / BATCHES).toFixed(2)}/batch, ${(js.bytes / BATCHES / 1024).toFixed(1)} KiB/batch`);
      for (const [k, e] of [...byCaller].sort((a, b) => b[1].bytes - a[1].bytes)) {
        console.log(`  ${(e.n / BATCHES).toFixed(2)} × ${(e.bytes / e.n / 1024).toFixed(1)} KiB  ${relative('.', k)}`);
      }
    }
  }
}
sink.kill();
