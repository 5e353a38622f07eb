// Every endpoint of the API reference against an in-process Agent, each live response validated against the
// API's own /openapi.json, and the document itself validated by swagger-parser.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import SwaggerParser from '@apidevtools/swagger-parser';
import type { Health, Subsystem } from '../../src/agent/subsystem.js';
import { apiConfig, call, startAgent, validatorFor, type OpenApiValidator, type TestAgent } from './helpers.js';

const SECRET = 'canary-header-secret-value';

describe('endpoints (debug on, auth off)', () => {
  let t: TestAgent;
  let v: OpenApiValidator;
  before(async () => {
    t = await startAgent(apiConfig('debug:\n  enabled: true', `otlp:\n  headers:\n    authorization: "${SECRET}"\n`));
    v = await validatorFor(t.base);
  });
  after(async () => { await t?.stop(); });

  test('the OpenAPI document is valid OpenAPI 3.1 and lists every endpoint of the reference, also under /api/v1', async () => {
    const doc = structuredClone(v.doc);
    await SwaggerParser.validate(doc as never);
    const paths = Object.keys(v.doc.paths as object);
    for (const p of ['/healthz', '/ready', '/metrics', '/status', '/status/ebpf', '/status/export', '/status/discovery', '/config',
      '/debug/pprof/', '/debug/pprof/heap', '/debug/pprof/goroutine', '/debug/pprof/threadcreate', '/debug/pprof/block',
      '/debug/pprof/mutex', '/debug/pprof/profile', '/debug/pprof/trace', '/debug/vars', '/admin/reload', '/admin/flush', '/openapi.json']) {
      assert.ok(paths.includes(p), p);
      assert.ok(paths.includes(`/api/v1${p}`), `/api/v1${p}`);
    }
  });

  test('GET /healthz → 200 {"status":"ok"}', async () => {
    const r = await call(v, t.base, '/healthz');
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { status: 'ok' });
    assert.match(r.contentType ?? '', /^application\/json/);
  });

  test('GET /ready → 200 with ebpf, otlp and discovery checks', async () => {
    const r = await call(v, t.base, '/ready');
    const body = JSON.parse(r.body) as { status: string; checks: Record<string, string> };
    assert.deepEqual(Object.keys(body.checks).sort().slice(0, 3), ['discovery', 'ebpf', 'otlp'].sort().slice(0, 3));
    for (const c of ['ebpf', 'otlp', 'discovery']) assert.ok(c in body.checks, c);
    const expectReady = Object.values(body.checks).every((h) => h === 'ok' || h === 'disabled');
    assert.equal(r.status, expectReady ? 200 : 503);
    assert.equal(body.status, expectReady ? 'ready' : 'not_ready');
    assert.equal(body.checks.ebpf, 'disabled', 'eBPF is off in this configuration');
  });

  test('GET /metrics → Prometheus text 0.0.4 with the self-telemetry families; OpenMetrics when Accept asks', async () => {
    const r = await call(v, t.base, '/metrics');
    assert.equal(r.status, 200);
    assert.match(r.contentType ?? '', /^text\/plain; version=0\.0\.4/);
    for (const f of ['telegen_spans_collected_total', 'telegen_export_queue_size', 'telegen_process_resident_memory_bytes',
      'telegen_process_start_time_seconds', 'telegen_nodejs_eventloop_lag_seconds', 'telegen_api_requests_total']) {
      assert.match(r.body, new RegExp(`^# TYPE ${f} `, 'm'), f);
    }
    assert.match(r.body, /^telegen_api_requests_total\{route="\/healthz",code="200"\} [1-9]/m, 'counts the /healthz call made above');
    const om = await call(v, t.base, '/metrics', { headers: { accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5' } });
    assert.match(om.contentType ?? '', /^application\/openmetrics-text; version=1\.0\.0/);
    assert.match(om.body, /# EOF\s*$/);
  });

  test('GET /status → the reference\'s fields, real host, uptime like 1h2m3s, honest disabled sections', async () => {
    const r = await call(v, t.base, '/status');
    assert.equal(r.status, 200);
    const s = JSON.parse(r.body) as Record<string, Record<string, unknown>> & { uptime: string; mode: string };
    assert.deepEqual(Object.keys(s), ['version', 'commit', 'built', 'uptime', 'mode', 'host', 'ebpf', 'profiling', 'export', 'discovery']);
    const os = await import('node:os');
    assert.deepEqual(s.host, { name: os.hostname(), os: 'linux', arch: process.arch === 'x64' ? 'amd64' : process.arch, kernel: os.release() });
    assert.match(s.uptime, /^(\d+h)?(\d+m)?\d+s$/);
    assert.equal(s.mode, 'agent');
    assert.deepEqual(Object.keys(s.ebpf), ['enabled', 'programs_loaded', 'maps_created', 'ringbuf_size']);
    assert.equal(s.ebpf.enabled, false);
    assert.deepEqual(s.profiling, { enabled: false, sample_rate: 99, profiles_collected: 0 });
    assert.deepEqual(Object.keys(s.export), ['endpoint', 'connected', 'last_export', 'spans_exported', 'metrics_exported']);
    assert.deepEqual(Object.keys(s.discovery), ['kubernetes', 'docker', 'pods_discovered', 'containers_discovered']);
  });

  test('GET /status/ebpf, /status/export, /status/discovery → the shapes, from the subsystems themselves', async () => {
    const e = JSON.parse((await call(v, t.base, '/status/ebpf')).body) as Record<string, unknown>;
    assert.deepEqual(Object.keys(e), ['enabled', 'programs', 'maps', 'ringbuf']);
    assert.equal(e.enabled, false);
    const x = JSON.parse((await call(v, t.base, '/status/export')).body) as Record<string, unknown>;
    assert.deepEqual(Object.keys(x), ['endpoint', 'protocol', 'tls', 'compression', 'connected', 'last_export', 'last_error', 'queues']);
    assert.deepEqual(x, t.agent.fullStatus().export!.status, 'served as the export subsystem reports it');
    const d = JSON.parse((await call(v, t.base, '/status/discovery')).body) as Record<string, unknown>;
    assert.deepEqual(Object.keys(d), ['kubernetes', 'docker', 'cloud', 'discovered_services']);
  });

  test('GET /config → the effective configuration with secrets redacted', async () => {
    const r = await call(v, t.base, '/config');
    assert.equal(r.status, 200);
    assert.ok(!r.body.includes(SECRET), 'the header secret never appears');
    const c = JSON.parse(r.body) as { mode: string; otlp: { headers: Record<string, string> }; self_telemetry: { listen: string } };
    assert.equal(c.otlp.headers.authorization, '<redacted>');
    assert.equal(c.self_telemetry.listen, '127.0.0.1:0');
    assert.equal(c.mode, 'agent');
  });

  test('GET /openapi.json and every endpoint under /api/v1', async () => {
    for (const p of ['/healthz', '/ready', '/status', '/status/ebpf', '/status/export', '/status/discovery', '/config', '/debug/vars', '/openapi.json']) {
      const r = await call(v, t.base, `/api/v1${p}`);
      assert.ok(r.status === 200 || (p === '/ready' && r.status === 503), `/api/v1${p} → ${r.status}`);
    }
    const flush = await call(v, t.base, '/api/v1/admin/flush', { method: 'POST' });
    assert.equal(flush.status, 200);
  });

  test('POST /admin/flush → 200 with the numbers flushed per signal', async () => {
    const r = await call(v, t.base, '/admin/flush', { method: 'POST' });
    assert.equal(r.status, 200);
    const b = JSON.parse(r.body) as { status: string; flushed: Record<string, number> };
    assert.equal(b.status, 'ok');
    assert.deepEqual(Object.keys(b.flushed).sort(), ['logs', 'metrics', 'profiles', 'traces']);
  });

  test('debug: /debug/pprof/ index, goroutine/threadcreate/block mapped, mutex/trace a clear 404, /debug/vars', async () => {
    const idx = await call(v, t.base, '/debug/pprof/');
    assert.equal(idx.status, 200);
    for (const p of ['heap', 'profile', 'goroutine', 'threadcreate', 'block', 'mutex', 'trace']) assert.match(idx.body, new RegExp(`href="${p}"`));
    const g = await call(v, t.base, '/debug/pprof/goroutine?debug=2');
    assert.match(g.body, /TCPServerWrap/, 'the listening socket is an active resource');
    const th = await call(v, t.base, '/debug/pprof/threadcreate');
    const n = Number(/^threads: (\d+)/.exec(th.body)?.[1]);
    const { readdirSync } = await import('node:fs');
    assert.ok(n >= 2 && Math.abs(n - readdirSync('/proc/self/task').length) <= 2, `thread count ${n}`);
    const b = await call(v, t.base, '/debug/pprof/block');
    assert.equal(JSON.parse(b.body).runtime_equivalent, 'event_loop_delay');
    for (const p of ['mutex', 'trace']) {
      const r = await call(v, t.base, `/debug/pprof/${p}`);
      assert.equal(r.status, 404);
      const e = JSON.parse(r.body) as { error: string; message: string };
      assert.equal(e.error, 'not_found');
      assert.match(e.message, /no Node\.js equivalent/);
    }
    const bad = await call(v, t.base, '/debug/pprof/profile?seconds=abc');
    assert.equal(bad.status, 400);
    assert.equal(JSON.parse(bad.body).error, 'invalid_request');
    const vars = JSON.parse((await call(v, t.base, '/debug/vars')).body) as { cmdline: string[]; memstats: Record<string, number>; recent_logs: string[] };
    assert.deepEqual(vars.cmdline, process.argv);
    const mem = process.memoryUsage();
    assert.ok(vars.memstats.Sys > 0 && Math.abs(vars.memstats.Sys - mem.rss) < mem.rss, 'Sys is the resident set');
    assert.ok(vars.memstats.TotalAlloc >= vars.memstats.Alloc);
    assert.ok(vars.recent_logs.some((l) => l.includes('api listening')), 'recent logs come from the agent\'s logger');
  });

  test('NumGC grows under allocation pressure', async () => {
    const read = async () => (JSON.parse((await call(v, t.base, '/debug/vars')).body) as { memstats: { NumGC: number; PauseTotalNs: number } }).memstats;
    const a = await read();
    let junk: unknown[] = [];
    for (let i = 0; i < 2_000_000; i++) { junk.push({ i }); if (junk.length > 100_000) junk = []; }
    await new Promise((r) => setTimeout(r, 50));
    const b = await read();
    assert.ok(b.NumGC > a.NumGC, `${a.NumGC} → ${b.NumGC}`);
    assert.ok(b.PauseTotalNs > a.PauseTotalNs);
  });

  test('unknown path → 404 not_found; wrong method → 405 with Allow and allowed methods; HEAD and OPTIONS work', async () => {
    const nf = await call(v, t.base, '/nope/nothing');
    assert.equal(nf.status, 404);
    assert.deepEqual(JSON.parse(nf.body), { error: 'not_found', message: 'no such endpoint: GET /nope/nothing', details: { method: 'GET', path: '/nope/nothing' } });
    const m = await call(v, t.base, '/admin/reload');
    assert.equal(m.status, 405);
    assert.equal(m.headers.get('allow'), 'POST, OPTIONS');
    assert.deepEqual((JSON.parse(m.body) as { details: { allowed_methods: string[] } }).details.allowed_methods, ['POST', 'OPTIONS']);
    const d = await call(v, t.base, '/status', { method: 'DELETE' });
    assert.equal(d.status, 405);
    assert.equal(d.headers.get('allow'), 'GET, HEAD, OPTIONS');
    const h = await call(v, t.base, '/healthz', { method: 'HEAD' });
    assert.equal(h.status, 200);
    const o = await call(v, t.base, '/status', { method: 'OPTIONS' });
    assert.equal(o.status, 204);
    assert.equal(o.headers.get('allow'), 'GET, HEAD, OPTIONS');
  });

  test('every live response above matched the document', () => {
    assert.ok(v.checked >= 30, `${v.checked} responses validated`);
  });
});

describe('status codes that need a particular agent state', () => {
  test('debug off → every debug endpoint is 404 not_found naming the setting', async () => {
    const t = await startAgent(apiConfig());
    try {
      const v = await validatorFor(t.base);
      for (const p of ['/debug/pprof/', '/debug/pprof/heap', '/debug/vars', '/api/v1/debug/pprof/profile']) {
        const r = await call(v, t.base, p);
        assert.equal(r.status, 404, p);
        assert.match(JSON.parse(r.body).message, /self_telemetry\.debug\.enabled/);
      }
    } finally { await t.stop(); }
  });

  test('/ready 503 not_ready with the failing check; /healthz 503 with the reason when a fatal failure is marked', async () => {
    let health: Health = 'ok';
    const otlp: Subsystem = {
      name: 'fake-exporter', readinessCheck: 'otlp',
      async start() {}, async stop() {}, async reload() {}, health: () => health, status: () => ({}),
    };
    const t = await startAgent(apiConfig(), () => [otlp]);
    try {
      const v = await validatorFor(t.base);
      let r = await call(v, t.base, '/ready');
      assert.equal(r.status, 200);
      assert.equal(JSON.parse(r.body).checks.otlp, 'ok');
      health = 'failed: connection refused';
      r = await call(v, t.base, '/ready');
      assert.equal(r.status, 503);
      assert.deepEqual(JSON.parse(r.body).status, 'not_ready');
      assert.equal(JSON.parse(r.body).checks.otlp, 'failed: connection refused');
      health = 'ok';
      assert.equal((await call(v, t.base, '/ready')).status, 200, 'recovers by itself');

      t.agent.markFatal('ring buffer poller died');
      const h = await call(v, t.base, '/healthz');
      assert.equal(h.status, 503);
      assert.deepEqual(JSON.parse(h.body), { status: 'unhealthy', reason: 'ring buffer poller died' });
    } finally { await t.stop(); }
  });

  test('a subsystem whose status drifts from the schema is a 500 internal_error naming it, not a wrong answer', async () => {
    // `profiling` is not built yet, so this stand-in is the only subsystem answering for it.
    const profiling: Subsystem = {
      name: 'profiling', async start() {}, async stop() {}, async reload() {}, health: () => 'ok', status: () => ({ enabled: true, sample_rate: '99' }),
    };
    const t = await startAgent(apiConfig(), () => [profiling]);
    try {
      const v = await validatorFor(t.base);
      for (const p of ['/status']) {
        const r = await call(v, t.base, p);
        assert.equal(r.status, 500);
        const e = JSON.parse(r.body) as { error: string; details: { subsystem: string } };
        assert.equal(e.error, 'internal_error');
        assert.equal(e.details.subsystem, 'profiling');
      }
    } finally { await t.stop(); }
  });

  test('/healthz stays 200 while the agent drains during a graceful shutdown', async () => {
    let release!: () => void;
    const slow: Subsystem = {
      name: 'slow-drain', async start() {}, async reload() {}, health: () => 'ok', status: () => ({}),
      stop: () => new Promise<void>((r) => { release = r; }),
    };
    const t = await startAgent(apiConfig(), () => [slow]);
    const base = t.base;
    const stopping = t.agent.stop();
    await new Promise((r) => setTimeout(r, 50));
    const h = await fetch(`${base}/healthz`);
    assert.equal(h.status, 200);
    const ready = await fetch(`${base}/ready`);
    assert.equal(ready.status, 503, 'not ready while stopping');
    release();
    await stopping;
  });
});
