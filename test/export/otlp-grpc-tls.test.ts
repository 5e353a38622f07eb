import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeTraces } from '../../src/export/proto/encode-otlp.js';
import { installPrecompressedSend } from '../../src/export/otlp-grpc/precompressed.js';
import { after, before, describe, it } from 'node:test';
import { createPipeline, type TelegenPipeline } from '../../src/pipeline/index.js';
import { logRecord, gauge, seqsOf, span, testConfig, testContext, tmp, waitFor } from './helpers/fixtures.js';
import { startGrpcReceiver, startHttpReceiver, type Receiver } from './helpers/receiver.js';
import { makeTestPki, type TestPki } from './helpers/test-ca.js';
import { startCountingProxy } from './helpers/tcp-proxy.js';
import { persistedRecords } from './helpers/segment-log-reader.js';

const fast = { initial_interval: '50ms', max_interval: '200ms', multiplier: 1.5 };

describe('OTLP/gRPC export and TLS', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  let pki: TestPki;
  before(() => { pki = makeTestPki(tmp('pki')); });
  after(async () => { for (const c of cleanup.reverse()) await c(); });

  async function pipeline(otlp: Record<string, unknown>): Promise<TelegenPipeline> {
    const p = createPipeline(testContext(testConfig({ otlp: { retry: fast, flush_interval: '50ms', ...otlp } })));
    await p.start();
    cleanup.push(() => p.stop());
    return p;
  }
  async function grpcRx(tls = false): Promise<Receiver> {
    const rx = await startGrpcReceiver(tls ? { tls: { key: pki.serverKey, cert: pki.serverCert } } : {});
    cleanup.push(() => rx.close());
    return rx;
  }

  it('exports traces, metrics and logs on the official service methods with the configured headers', async () => {
    const rx = await grpcRx();
    const p = await pipeline({ endpoint: `127.0.0.1:${rx.port}`, protocol: 'grpc', insecure: true, headers: { 'x-api-key': 'k1' } });
    p.push('traces', [span(1), span(2)]);
    p.push('metrics', [gauge(1, 42)]);
    p.push('logs', [logRecord(3)]);
    const n = await p.flush();
    assert.deepEqual(n, { traces: 2, metrics: 1, logs: 1, profiles: 0 });
    const bySignal = (s: string) => rx.received.filter((r) => r.signal === s);
    assert.deepEqual(seqsOf(bySignal('traces').map((r) => r.body)).sort(), [1, 2]);
    assert.deepEqual(seqsOf(bySignal('logs').map((r) => r.body), 'logs'), [3]);
    const m = bySignal('metrics')[0]!.body.resourceMetrics[0].scopeMetrics[0].metrics[0];
    assert.equal(m.name, 'test_gauge');
    assert.equal(m.gauge.dataPoints[0].asDouble, 42);
    for (const r of rx.received) assert.equal(r.headers['x-api-key'], 'k1');
  });

  it('gzip really compresses on the wire (bytes counted by a TCP proxy, gzip vs none)', async () => {
    const rx = await grpcRx();
    const wire: Record<string, number> = {};
    for (const compression of ['gzip', 'none']) {
      const proxy = await startCountingProxy(rx.port);
      cleanup.push(() => proxy.close());
      const p = await pipeline({ endpoint: `127.0.0.1:${proxy.port}`, protocol: 'grpc', insecure: true, compression, traces: { batch_size: 500 } });
      p.push('traces', Array.from({ length: 500 }, (_, i) => span(i)));
      assert.equal((await p.flush()).traces, 500);
      wire[compression] = proxy.bytesUp();
    }
    assert.ok(wire.gzip! * 3 < wire.none!, `gzip ${wire.gzip} bytes vs none ${wire.none} bytes`);
    assert.equal(seqsOf(rx.received.map((r) => r.body)).length, 1000);
  });

  it('gzip: each batch is compressed once, at level 1, before it is queued, and sent as a compressed gRPC message', async () => {
    const rx = await grpcRx();
    const proxy = await startCountingProxy(rx.port);
    cleanup.push(() => proxy.close());
    const dir = tmp('grpc-gzip');
    const config = testConfig({ otlp: { retry: fast, flush_interval: '50ms', endpoint: `127.0.0.1:${proxy.port}`, protocol: 'grpc', insecure: true, compression: 'gzip', traces: { batch_size: 500 } } }, dir);
    // The receiver holds its answer: the batch stays in the persistent queue meanwhile, where it can be looked at.
    rx.replies.push({ holdMs: 1000 });
    const p = createPipeline(testContext(config));
    await p.start();
    cleanup.push(() => p.stop());
    const spans = Array.from({ length: 500 }, (_, i) => span(i));
    p.push('traces', spans);
    let queued: ReturnType<typeof persistedRecords> = [];
    await waitFor(() => (queued = persistedRecords(join(config.queue.directory, 'traces'), 'traces')).length > 0, 3000, 'queued batch');
    assert.equal(queued[0]!.gzip, true, 'queued compressed (record magic TGZ1)');
    assert.equal(queued[0]!.items, 500);
    await waitFor(() => rx.received.length === 1, 5000, 'delivery');
    // Decoded by grpc-js' server: flagged compressed and compressed once (gzip bytes sent as plain, or gzipped
    // twice, would not decode).
    assert.deepEqual(seqsOf(rx.received.map((r) => r.body)).sort((a, b) => a - b), spans.map((_, i) => i));
    // On the wire: about the level-1 compressed request, not the plain one.
    const level1 = gzipSync(encodeTraces(spans), { level: 1 }).length;
    await waitFor(() => proxy.bytesUp() >= level1, 2000, 'bytes counted');
    assert.ok(proxy.bytesUp() < level1 + 2048, `${proxy.bytesUp()} bytes up for a ${level1}-byte level-1 request`);
  });

  it('gzip: if grpc-js ever stops taking pre-compressed messages, the refused batch is sent again as plain bytes', async () => {
    // Simulate a grpc-js whose compression filter never sees the marked Buffer (here: it gets a copy), so the gzip
    // bytes go out as the message and the receiver cannot decode them.
    assert.ok(installPrecompressedSend()); // first, so that the copy below happens before it
    const { CompressionFilter } = createRequire(import.meta.url)('@grpc/grpc-js/build/src/compression-filter.js');
    const patched = CompressionFilter.prototype.sendMessage;
    CompressionFilter.prototype.sendMessage = async function (m: Promise<{ message: Buffer; flags?: number }>) {
      const r = await m;
      return patched.call(this, { message: Buffer.from(r.message), flags: r.flags });
    };
    try {
      const rx = await grpcRx();
      const p = await pipeline({ endpoint: `127.0.0.1:${rx.port}`, protocol: 'grpc', insecure: true, compression: 'gzip' });
      p.push('traces', [span(1), span(2), span(3)]);
      assert.equal((await p.flush()).traces, 3);
      assert.deepEqual(seqsOf(rx.received.map((r) => r.body)).sort(), [1, 2, 3]);
      const st = p.status() as { last_error: string; queues: { traces: { dropped: number } } };
      assert.equal(st.queues.traces.dropped, 0);
      assert.match(st.last_error, /pre-compressed/);
    } finally {
      CompressionFilter.prototype.sendMessage = patched;
    }
  });

  it('retries UNAVAILABLE and RESOURCE_EXHAUSTED with RetryInfo; RESOURCE_EXHAUSTED without it is permanent', async () => {
    const rx = await grpcRx();
    const p = await pipeline({ endpoint: `127.0.0.1:${rx.port}`, protocol: 'grpc', insecure: true });
    rx.replies.push({ grpcCode: 14 }, { grpcCode: 8, retryInfoMs: 700 });
    const t0 = Date.now();
    p.push('traces', [span(5)]);
    await waitFor(() => rx.received.length === 1, 5000, 'delivery');
    assert.ok(rx.received[0]!.at - t0 >= 700, 'RetryInfo delay honoured');
    rx.replies.push({ grpcCode: 8 });
    p.push('traces', [span(6)]);
    await waitFor(() => (p.status() as { queues: { traces: { dropped: number } } }).queues.traces.dropped === 1, 3000, 'permanent drop');
    assert.equal(rx.received.length, 1);
  });

  it('reports connection refused in readiness, and recovers', async () => {
    const rx = await grpcRx();
    const port = rx.port;
    await rx.close();
    const p = await pipeline({ endpoint: `127.0.0.1:${port}`, protocol: 'grpc', insecure: true });
    p.push('traces', [span(9)]);
    await waitFor(() => p.health().startsWith('failed'), 5000, 'readiness to fail');
    assert.equal((p.status() as { connected: boolean }).connected, false);
    const back = await startGrpcReceiver({ port });
    cleanup.push(() => back.close());
    await waitFor(() => back.received.length === 1, 8000, 'delivery after the receiver came back');
    await waitFor(() => p.health() === 'ok', 2000, 'readiness to recover');
  });

  it('gRPC over TLS with the test CA', async () => {
    const rx = await grpcRx(true);
    const p = await pipeline({ endpoint: `localhost:${rx.port}`, protocol: 'grpc', tls: { enabled: true, ca_file: pki.caFile } });
    assert.equal((p.status() as { tls: boolean }).tls, true);
    p.push('traces', [span(11)]);
    assert.equal((await p.flush()).traces, 1);
    assert.equal(rx.received.length, 1);
  });

  it('gRPC TLS without the CA fails (no silent plaintext fallback), insecure_skip_verify succeeds', async () => {
    const rx = await grpcRx(true);
    const p = await pipeline({ endpoint: `localhost:${rx.port}`, protocol: 'grpc' });
    p.push('traces', [span(12)]);
    await waitFor(() => p.health().startsWith('failed'), 5000, 'TLS failure');
    assert.equal(rx.received.length, 0);
    const q = await pipeline({ endpoint: `localhost:${rx.port}`, protocol: 'grpc', tls: { insecure_skip_verify: true } });
    q.push('traces', [span(13)]);
    assert.equal((await q.flush()).traces, 1);
  });

  it('HTTPS with the test CA and a client certificate (mutual TLS)', async () => {
    const rx = await startHttpReceiver({ tls: { key: pki.serverKey, cert: pki.serverCert, ca: pki.ca, requestCert: true } });
    cleanup.push(() => rx.close());
    const p = await pipeline({
      endpoint: `https://localhost:${rx.port}`, protocol: 'http',
      tls: { enabled: true, ca_file: pki.caFile, cert_file: pki.clientCertFile, key_file: pki.clientKeyFile },
    });
    p.push('traces', [span(14)]);
    assert.equal((await p.flush()).traces, 1);
    assert.equal(rx.received.length, 1);
    // Without the client certificate the server refuses the handshake.
    const q = await pipeline({ endpoint: `https://localhost:${rx.port}`, protocol: 'http', tls: { ca_file: pki.caFile } });
    q.push('traces', [span(15)]);
    await waitFor(() => q.health().startsWith('failed'), 5000, 'mTLS refusal');
    assert.equal(rx.received.length, 1);
  });

  it('refuses unusable settings at start-up instead of falling back', async () => {
    const bad = [
      { endpoint: 'http://127.0.0.1:4318', protocol: 'http' }, // plaintext URL without insecure
      { endpoint: '127.0.0.1:4317', protocol: 'grpc', tls: { ca_file: '/nonexistent/ca.pem' } },
      { endpoint: '127.0.0.1:4317', protocol: 'grpc', insecure: true, tls: { enabled: true } },
      { endpoint: '127.0.0.1:4317', protocol: 'grpc', tls: { cert_file: pki.clientCertFile } },
    ];
    for (const otlp of bad) {
      const p = createPipeline(testContext(testConfig({ otlp })));
      await assert.rejects(p.start(), (e: Error & { exitCode?: number }) => e.exitCode === 5, JSON.stringify(otlp));
    }
  });
});
