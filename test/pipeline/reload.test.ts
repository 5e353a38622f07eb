// Reload of the export pipeline through a real Agent (built from a config file, reloaded the way SIGHUP and
// POST /admin/reload do): endpoint, protocol, headers and batch_size changes swap the exporters without losing
// what is queued; a setting that cannot be honoured, or a change of queue.directory, makes the reload fail and
// the Agent roll back, and the running pipeline keeps exporting with the old settings.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { Agent } from '../../src/agent/agent.js';
import type { ExportPipeline, Subsystem } from '../../src/agent/subsystem.js';
import { loadConfig } from '../../src/config/load.js';
import { seqsOf, span, tmp, waitFor } from '../export/helpers/fixtures.js';
import { startGrpcReceiver, startHttpReceiver, type Receiver } from '../export/helpers/receiver.js';
import { captureLogger } from '../helpers/logger.js';

const fast = { initial_interval: '50ms', max_interval: '200ms', multiplier: 1.5 };
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
const sizes = (rx: Receiver) => rx.received.map((r) => seqsOf([r.body]).length);

interface Status { endpoint: string; protocol: string; queues: { traces: { size: number; exported: number } } }

describe('export pipeline reload (real Agent)', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  after(async () => { for (const c of cleanup.reverse()) await c(); });

  /** A config file for the Agent: host sources off, only the export pipeline and the API. */
  function configYaml(dir: string, otlp: Record<string, unknown>, queue: Record<string, unknown> = {}): string {
    return stringify({
      shutdown_timeout: '3s',
      self_telemetry: { listen: '127.0.0.1:0' },
      agent: { ebpf: { enabled: false }, host_metrics: { enabled: false } },
      file_exporter: { enabled: false, directory: join(dir, 'output') },
      queue: { directory: join(dir, 'queue'), ...queue },
      otlp: { insecure: true, retry: fast, ...otlp },
    });
  }

  async function startAgent(otlp: Record<string, unknown>, extra: Subsystem[] = []) {
    const dir = tmp('reload');
    const file = join(dir, 'telegen.yaml');
    writeFileSync(file, configYaml(dir, otlp));
    const loadOptions = { configPath: file, env: {}, isRoot: true };
    const { config } = loadConfig(loadOptions);
    let sink: ExportPipeline | undefined;
    const { logger, lines } = captureLogger('info');
    const agent = new Agent({ config, configPath: file, loadOptions, logger, extraSubsystems: (ctx) => { sink = ctx.sink as ExportPipeline; return extra; } });
    await agent.start();
    cleanup.push(() => agent.stop());
    const pipeline = sink!;
    return { agent, pipeline, lines, rewrite: (o: Record<string, unknown>, q: Record<string, unknown> = {}) => writeFileSync(file, configYaml(dir, o, q)), dir };
  }

  async function receivers() {
    const http = await startHttpReceiver();
    const grpc = await startGrpcReceiver();
    cleanup.push(() => http.close(), () => grpc.close());
    return { http, grpc };
  }

  it('endpoint, protocol, headers and batch_size change: exporters swapped, nothing queued is lost', async () => {
    const { http, grpc } = await receivers();
    // The HTTP endpoint refuses everything (503, retryable): what is pushed stays queued.
    http.replies.push(...Array.from({ length: 10_000 }, () => ({ httpStatus: 503 })));
    const { agent, pipeline, rewrite } = await startAgent({
      endpoint: `http://127.0.0.1:${http.port}`, protocol: 'http', headers: { 'x-tenant': 'a' }, flush_interval: '1h', traces: { batch_size: 10 },
    });
    assert.equal(pipeline.push('traces', range(0, 25).map((n) => span(n))), 25);
    // Two full batches are persisted and retried against the 503s; five spans wait in memory for a cut.
    await waitFor(() => pipeline.health().startsWith('failed: HTTP 503'), 5000, 'the 503s to show in readiness');
    assert.equal((pipeline.status() as Status).queues.traces.size, 25);

    rewrite({ endpoint: `127.0.0.1:${grpc.port}`, protocol: 'grpc', headers: { 'x-tenant': 'b' }, flush_interval: '50ms', traces: { batch_size: 4 } });
    const r = await agent.reload();
    assert.deepEqual(r, { ok: true });
    assert.equal(pipeline.push('traces', range(25, 32).map((n) => span(n))), 7);

    await waitFor(() => seqsOf(grpc.received.map((x) => x.body)).length >= 32, 10_000, 'every span at the new endpoint');
    assert.deepEqual(seqsOf(grpc.received.map((x) => x.body)).sort((a, b) => a - b), range(0, 32), 'every span exactly once');
    assert.equal(http.received.length, 0, 'the old endpoint never accepted anything');
    for (const rx of grpc.received) assert.equal(rx.headers['x-tenant'], 'b');
    // Batches already persisted keep their size; what was still in memory is cut with the new batch_size.
    assert.deepEqual(sizes(grpc).sort((a, b) => b - a), [10, 10, 4, 4, 4]);
    // The receiver records a request before its answer reaches the pipeline: the last ack may still be on its way.
    await waitFor(() => (pipeline.status() as Status).queues.traces.size === 0, 5000, 'the last ack to be processed');
    const st = pipeline.status() as Status;
    assert.equal(st.endpoint, `127.0.0.1:${grpc.port}`);
    assert.equal(st.protocol, 'grpc');
    assert.equal(st.queues.traces.size, 0);
    assert.equal(st.queues.traces.exported, 32);
    await waitFor(() => pipeline.health() === 'ok', 5000, 'readiness ok at the new endpoint');

    // And back to HTTP (now accepting), with new headers: the swap works both ways.
    http.replies.length = 0;
    rewrite({ endpoint: `http://127.0.0.1:${http.port}`, protocol: 'http', headers: { 'x-tenant': 'c' }, flush_interval: '50ms', traces: { batch_size: 3 } });
    assert.deepEqual(await agent.reload(), { ok: true });
    pipeline.push('traces', range(32, 38).map((n) => span(n)));
    assert.equal((await agent.flush()).traces, 6);
    assert.deepEqual(seqsOf(http.received.map((x) => x.body)).sort((a, b) => a - b), range(32, 38));
    assert.deepEqual(sizes(http), [3, 3]);
    for (const rx of http.received) assert.equal(rx.headers['x-tenant'], 'c');
  });

  it('an unusable setting (TLS CA file missing) or a queue.directory change is refused and rolled back; export goes on as before', async () => {
    const { http } = await receivers();
    const otlp = { endpoint: `http://127.0.0.1:${http.port}`, protocol: 'http', headers: { 'x-tenant': 'a' }, flush_interval: '50ms', traces: { batch_size: 5 } };
    const { agent, pipeline, rewrite, lines } = await startAgent(otlp);
    pipeline.push('traces', range(0, 5).map((n) => span(n)));
    await waitFor(() => seqsOf(http.received.map((x) => x.body)).length === 5, 5000, 'first batch');
    const before = agent.config();

    rewrite({ ...otlp, endpoint: `https://127.0.0.1:${http.port}`, insecure: false, headers: { 'x-tenant': 'b' }, tls: { ca_file: '/nonexistent/telegen-test-ca.pem' } });
    const r1 = await agent.reload();
    assert.ok(!r1.ok && r1.status === 500 && r1.subsystem === 'export' && /ca_file/.test(r1.message), JSON.stringify(r1));
    assert.equal(agent.config(), before, 'the running configuration stays');
    assert.ok(lines().some((l) => String(l.msg).includes('rolling back')));

    rewrite(otlp, { directory: join(tmp('reload-elsewhere'), 'queue') });
    const r2 = await agent.reload();
    assert.ok(!r2.ok && r2.status === 500 && r2.subsystem === 'export' && /queue\.directory/.test(r2.message), JSON.stringify(r2));
    assert.equal(agent.config(), before);

    // Still exporting with the old settings: same endpoint (plaintext), same headers, same batch size.
    pipeline.push('traces', range(5, 15).map((n) => span(n)));
    await waitFor(() => seqsOf(http.received.map((x) => x.body)).length === 15, 5000, 'export after the failed reloads');
    assert.deepEqual(seqsOf(http.received.map((x) => x.body)).sort((a, b) => a - b), range(0, 15));
    assert.deepEqual(sizes(http), [5, 5, 5]);
    for (const rx of http.received) assert.equal(rx.headers['x-tenant'], 'a');
    assert.equal((pipeline.status() as Status).endpoint, `http://127.0.0.1:${http.port}`);
    assert.equal(pipeline.health(), 'ok');
  });

  it('a reload refused by a later subsystem puts the old exporters back', async () => {
    const { http, grpc } = await receivers();
    // A subsystem after the pipeline that refuses any configuration pointing at the gRPC receiver.
    const veto: Subsystem = {
      name: 'veto', async start() {}, async stop() {}, health: () => 'ok', status: () => ({}),
      async reload(c) { if (c.otlp.endpoint.endsWith(`:${grpc.port}`)) throw new Error('veto: not that endpoint'); },
    };
    const otlp = { endpoint: `http://127.0.0.1:${http.port}`, protocol: 'http', headers: { 'x-tenant': 'a' }, flush_interval: '50ms', traces: { batch_size: 5 } };
    const { agent, pipeline, rewrite } = await startAgent(otlp, [veto]);
    rewrite({ ...otlp, endpoint: `127.0.0.1:${grpc.port}`, protocol: 'grpc', headers: { 'x-tenant': 'b' } });
    const r = await agent.reload();
    assert.ok(!r.ok && r.status === 500 && r.subsystem === 'veto', JSON.stringify(r));
    pipeline.push('traces', range(0, 10).map((n) => span(n)));
    assert.equal((await agent.flush()).traces, 10);
    assert.deepEqual(seqsOf(http.received.map((x) => x.body)).sort((a, b) => a - b), range(0, 10));
    assert.equal(grpc.received.length, 0, 'the refused endpoint got nothing');
    assert.equal((pipeline.status() as Status).protocol, 'http');
  });

  it('batches queued gzip-compressed (OTLP/HTTP + gzip) are sent plain after a reload turns compression off', async () => {
    const { http } = await receivers();
    http.replies.push(...Array.from({ length: 10_000 }, () => ({ httpStatus: 503 })));
    const otlp = { endpoint: `http://127.0.0.1:${http.port}`, protocol: 'http', flush_interval: '50ms', traces: { batch_size: 5 } };
    const { agent, pipeline, rewrite, dir } = await startAgent(otlp);
    pipeline.push('traces', range(0, 10).map((n) => span(n)));
    await waitFor(() => pipeline.health().startsWith('failed: HTTP 503'), 5000, 'the 503s');
    // The persistent queue holds the compressed bytes (record magic "TGZ1").
    const segDir = join(dir, 'queue', 'traces');
    const seg = readdirSync(segDir).find((f) => f.endsWith('.seg'))!;
    assert.equal(readFileSync(join(segDir, seg)).subarray(0, 4).toString('latin1'), 'TGZ1');

    rewrite({ ...otlp, compression: 'none' });
    assert.deepEqual(await agent.reload(), { ok: true });
    http.replies.length = 0;
    await waitFor(() => seqsOf(http.received.map((x) => x.body)).length === 10, 5000, 'delivery after the reload');
    assert.deepEqual(seqsOf(http.received.map((x) => x.body)).sort((a, b) => a - b), range(0, 10));
    for (const rx of http.received) assert.equal(rx.gzip, false);
  });

  it('readiness reflects an unreachable endpoint before anything is sent, and recovers when it comes up', async () => {
    // A port nothing listens on (taken from a receiver that is closed at once), then a receiver on that port.
    const probeRx = await startHttpReceiver();
    const port = probeRx.port;
    await probeRx.close();
    // flush_interval 1h: no timer tick for the test's duration, so only the start-up probe can tell.
    const otlp = { endpoint: `http://127.0.0.1:${port}`, protocol: 'http', flush_interval: '1h' };
    const { agent, pipeline, rewrite } = await startAgent(otlp);
    await waitFor(() => pipeline.health() === 'failed: connection refused', 3000, 'the start-up probe to fail readiness');
    assert.equal(agent.readiness().checks.otlp, 'failed: connection refused');
    assert.equal(agent.readiness().ready, false);
    const rx = await startHttpReceiver({ port });
    cleanup.push(() => rx.close());
    // With nothing to send, the flush-interval tick probes again while the endpoint is down.
    rewrite({ ...otlp, flush_interval: '50ms' });
    assert.deepEqual(await agent.reload(), { ok: true });
    await waitFor(() => pipeline.health() === 'ok', 3000, 'readiness to recover with nothing sent');
    assert.equal(agent.readiness().checks.otlp, 'ok');
    assert.equal(rx.received.length, 0, 'the probe sends no data');
  });
});
