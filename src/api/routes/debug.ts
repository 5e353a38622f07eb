// Debug endpoints (404 unless self_telemetry.debug.enabled): Go's /debug/pprof/* names mapped onto what Node.js
// really has. heap and profile are real pprof protobuf (@datadog/pprof over V8's samplers) that `go tool pprof`
// reads; the Go-only profiles map to their closest honest equivalent or say clearly that there is none.
import { readdirSync, readFileSync } from 'node:fs';
import { Type } from '@sinclair/typebox';
import { loadPprof } from '../debug/pprof.js';
import { apiErrors } from '../errors.js';
import type { ApiContext, RouteSpec } from '../route.js';
import { CpuProfileQuerySchema, DebugVarsSchema, ErrorBodySchema, StacksQuerySchema } from '../schemas.js';

const PPROF = 'application/octet-stream';
const TEXT = 'text/plain; charset=utf-8';
const HTML = 'text/html; charset=utf-8';
const CPU_SAMPLE_INTERVAL_MICROS = 10_000; // 100 Hz, as Go's CPU profiler

/** The profiles of the index page, with what each one is here. */
const PROFILES: Array<{ name: string; what: string }> = [
  { name: 'heap', what: 'Sampled V8 heap allocations still live (pprof protobuf; sample every 512 KiB).' },
  { name: 'profile', what: 'V8 CPU profile of the JavaScript thread (pprof protobuf; ?seconds=N, default 30, at 100 Hz).' },
  { name: 'goroutine', what: 'No goroutines in Node.js: the async resources (libuv handles and requests) the event loop is waiting on, and the JavaScript stack (text).' },
  { name: 'threadcreate', what: 'The OS threads of the process (/proc/self/task: main thread, libuv pool, V8 workers) (text).' },
  { name: 'block', what: 'Event-loop delay percentiles: how long ready work waited because the loop was blocked (JSON).' },
  { name: 'mutex', what: 'No equivalent: JavaScript runs on one thread without mutexes (404 with the reason).' },
  { name: 'trace', what: 'No equivalent execution tracer is served (404 with the reason); use profile.' },
];

export function debugRoutes(ctx: ApiContext): RouteSpec[] {
  let cpuProfiling = false;
  const attachment = (name: string) => ({ 'content-disposition': `attachment; filename="${name}"`, 'x-content-type-options': 'nosniff' });
  const noEquivalent = (name: string, why: string, see: string, operationId: string): RouteSpec => ({
    method: 'GET', path: `/debug/pprof/${name}`, operationId, tag: 'debug', access: 'debug',
    summary: `Go ${name} profile: no Node.js equivalent`,
    description: `Always 404 \`not_found\` with the reason: ${why}. See ${see}.`,
    responses: { 404: { description: 'No Node.js equivalent', schema: ErrorBodySchema } },
    handler: async () => { throw apiErrors.noRuntimeEquivalent(name, why, see); },
  });

  return [
    {
      method: 'GET', path: '/debug/pprof/', operationId: 'getPprofIndex', tag: 'debug', access: 'debug',
      summary: 'pprof index', description: 'HTML list of the profiles and what each maps to in Node.js.',
      responses: { 200: { description: 'Index', contentType: HTML, schema: Type.String() } },
      async handler(_req, reply) {
        reply.type(HTML);
        const rows = PROFILES.map((p) => `<tr><td><a href="${p.name}">${p.name}</a></td><td>${p.what}</td></tr>`).join('\n');
        return `<!doctype html>\n<html><head><title>/debug/pprof/</title></head><body>\n<h1>/debug/pprof/</h1>\n<table>\n${rows}\n</table>\n<p><a href="../vars">/debug/vars</a></p>\n</body></html>\n`;
      },
    },
    {
      method: 'GET', path: '/debug/pprof/heap', operationId: 'getPprofHeap', tag: 'debug', access: 'debug',
      summary: 'Heap profile (pprof)', description: PROFILES[0]!.what,
      responses: { 200: { description: 'gzipped pprof protobuf', contentType: PPROF } },
      async handler(_req, reply) {
        if (!ctx.runtime.heapProfilerRunning) throw apiErrors.busy('the heap profiler is starting; try again', 1);
        const { encode, heap } = await loadPprof();
        const buf = await encode(heap.profile());
        reply.type(PPROF).headers(attachment('heap'));
        return buf;
      },
    },
    {
      method: 'GET', path: '/debug/pprof/profile', operationId: 'getPprofProfile', tag: 'debug', access: 'debug',
      summary: 'CPU profile (pprof)', description: `${PROFILES[1]!.what} One at a time: 503 while another runs.`,
      querystring: CpuProfileQuerySchema,
      responses: {
        200: { description: 'gzipped pprof protobuf', contentType: PPROF },
        400: { description: 'Bad seconds', schema: ErrorBodySchema },
        503: { description: 'Another CPU profile is running', schema: ErrorBodySchema },
      },
      async handler(req, reply) {
        const seconds = (req.query as { seconds?: number }).seconds ?? 30;
        const { encode, time } = await loadPprof();
        if (cpuProfiling || time.isStarted()) throw apiErrors.busy('a CPU profile is already being collected', seconds);
        cpuProfiling = true;
        try {
          const profile = await time.profile({ durationMillis: seconds * 1000, intervalMicros: CPU_SAMPLE_INTERVAL_MICROS });
          const buf = await encode(profile);
          reply.type(PPROF).headers(attachment('profile'));
          return buf;
        } finally {
          cpuProfiling = false;
        }
      },
    },
    {
      method: 'GET', path: '/debug/pprof/goroutine', operationId: 'getPprofGoroutine', tag: 'debug', access: 'debug',
      summary: 'Go goroutine stacks → Node.js async resources', description: PROFILES[2]!.what,
      querystring: StacksQuerySchema,
      responses: { 200: { description: 'Text report', contentType: TEXT, schema: Type.String() } },
      async handler(_req, reply) {
        reply.type(TEXT);
        const counts = new Map<string, number>();
        for (const r of process.getActiveResourcesInfo()) counts.set(r, (counts.get(r) ?? 0) + 1);
        const lines = [...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${n} @ ${k}`);
        const stack = (new Error().stack ?? '').split('\n').slice(1).map((l) => l.trim());
        return `async resources the event loop is waiting on: ${[...counts.values()].reduce((a, b) => a + b, 0)}\n${lines.join('\n')}\n\n` +
          `JavaScript thread stack (serving this request):\n${stack.join('\n')}\n`;
      },
    },
    {
      method: 'GET', path: '/debug/pprof/threadcreate', operationId: 'getPprofThreadcreate', tag: 'debug', access: 'debug',
      summary: 'Go thread creation → OS threads of the process', description: PROFILES[3]!.what,
      responses: { 200: { description: 'Text report', contentType: TEXT, schema: Type.String() } },
      async handler(_req, reply) {
        reply.type(TEXT);
        const threads = listThreads();
        const counts = new Map<string, number>();
        for (const t of threads) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
        return `threads: ${threads.length}\n${[...counts].map(([name, n]) => `${n} @ ${name}`).join('\n')}\n\n` +
          `${threads.map((t) => `${t.tid}\t${t.name}`).join('\n')}\n`;
      },
    },
    {
      method: 'GET', path: '/debug/pprof/block', operationId: 'getPprofBlock', tag: 'debug', access: 'debug',
      summary: 'Go blocking profile → event-loop delay', description: `${PROFILES[4]!.what} Figures since the previous call (or since debug was enabled), in nanoseconds.`,
      responses: {
        200: {
          description: 'Event-loop delay', schema: Type.Object({
            runtime_equivalent: Type.Literal('event_loop_delay'), unit: Type.Literal('nanoseconds'),
            min: Type.Number(), max: Type.Number(), mean: Type.Number(), p50: Type.Number(), p90: Type.Number(), p99: Type.Number(), count: Type.Number(),
          }),
        },
      },
      async handler() {
        const d = ctx.runtime.eventLoopDelay(true);
        if (!d) throw apiErrors.busy('the event-loop delay monitor is starting; try again', 1);
        return { runtime_equivalent: 'event_loop_delay', unit: 'nanoseconds', ...d };
      },
    },
    noEquivalent('mutex', 'JavaScript runs on a single thread without mutexes, so there is no lock contention to profile', '/debug/pprof/block (event-loop delay)', 'getPprofMutex'),
    noEquivalent('trace', 'Node.js has no execution tracer comparable to Go\'s runtime/trace that can be captured over HTTP', '/debug/pprof/profile (CPU profile)', 'getPprofTrace'),
    {
      method: 'GET', path: '/debug/vars', operationId: 'getDebugVars', tag: 'debug', access: 'debug',
      summary: 'Runtime variables (expvar)',
      description: 'cmdline and Go-style memstats mapped from Node\'s own figures (see each field), and the agent\'s recent log lines (used by `telegen diagnostics --include-logs`).',
      responses: { 200: { description: 'Success', schema: DebugVarsSchema } },
      async handler() {
        const m = process.memoryUsage();
        const rt = ctx.runtime;
        return {
          cmdline: [...process.argv],
          memstats: {
            Alloc: m.heapUsed, TotalAlloc: rt.totalAllocBytes(m.heapUsed), Sys: m.rss,
            HeapAlloc: m.heapUsed, HeapSys: m.heapTotal, HeapIdle: Math.max(0, m.heapTotal - m.heapUsed), HeapInuse: m.heapUsed,
            External: m.external, ArrayBuffers: m.arrayBuffers,
            NumGC: rt.numGC, PauseTotalNs: rt.pauseTotalNs, LastGC: rt.lastGCNs,
          },
          recent_logs: ctx.control.recentLogs(),
        };
      },
    },
  ];
}

function listThreads(): Array<{ tid: number; name: string }> {
  try {
    return readdirSync('/proc/self/task').map((tid) => {
      let name = '?';
      try { name = readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim(); } catch { /* thread exited */ }
      return { tid: Number(tid), name };
    });
  } catch {
    return [];
  }
}
