import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createPipeline, type TelegenPipeline } from '../../src/pipeline/index.js';
import { seqsOf, span, testConfig, testContext, waitFor } from './helpers/fixtures.js';
import { startHttpReceiver, type Receiver } from './helpers/receiver.js';

const fast = { initial_interval: '50ms', max_interval: '200ms', multiplier: 1.5 };

describe('OTLP/HTTP export', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  after(async () => { for (const c of cleanup.reverse()) await c(); });

  async function setup(otlp: Record<string, unknown> = {}): Promise<{ rx: Receiver; p: TelegenPipeline; ctx: ReturnType<typeof testContext> }> {
    const rx = await startHttpReceiver();
    cleanup.push(() => rx.close());
    const ctx = testContext(testConfig({ otlp: { endpoint: `http://127.0.0.1:${rx.port}`, protocol: 'http', insecure: true, retry: fast, flush_interval: '50ms', traces: { batch_size: 10 }, ...otlp } }));
    const p = createPipeline(ctx);
    await p.start();
    cleanup.push(() => p.stop());
    return { rx, p, ctx };
  }

  it('sends batches of batch_size, gzip-compressed, with the configured headers, decodable by OpenTelemetry', async () => {
    const { rx, p, ctx } = await setup({ headers: { authorization: 'Bearer s3cret', 'x-tenant': 'a' } });
    assert.equal(p.push('traces', Array.from({ length: 25 }, (_, i) => span(i))), 25);
    const flushed = await p.flush();
    assert.equal(flushed.traces, 25);
    assert.deepEqual(rx.received.map((r) => seqsOf([r.body]).length).sort((a, b) => a - b), [5, 10, 10]);
    assert.deepEqual(seqsOf(rx.received.map((r) => r.body)).sort((a, b) => a - b), Array.from({ length: 25 }, (_, i) => i));
    for (const r of rx.received) {
      assert.equal(r.gzip, true);
      assert.equal(r.headers.authorization, 'Bearer s3cret');
      assert.equal(r.headers['x-tenant'], 'a');
    }
    const st = p.status() as { connected: boolean; queues: { traces: { exported: number; size: number } }; last_export: string | null };
    assert.equal(st.connected, true);
    assert.equal(st.queues.traces.exported, 25);
    assert.equal(st.queues.traces.size, 0);
    assert.ok(st.last_export);
    assert.equal(p.health(), 'ok');
    const text = (await ctx.metrics.render()).body;
    assert.match(text, /telegen_spans_exported_total 25/);
    assert.match(text, /telegen_export_requests_total\{endpoint="http:\/\/127\.0\.0\.1:\d+",status="success"\} 3/);
  });

  it('sends uncompressed when compression is none', async () => {
    const { rx, p } = await setup({ compression: 'none' });
    p.push('traces', [span(1)]);
    await p.flush();
    assert.equal(rx.received.length, 1);
    assert.equal(rx.received[0]!.gzip, false);
  });

  it('retries 503 with backoff until delivered, and readiness fails meanwhile', async () => {
    const { rx, p, ctx } = await setup();
    rx.replies.push({ httpStatus: 503 }, { httpStatus: 503 }, { httpStatus: 503 });
    p.push('traces', [span(7)]);
    await waitFor(() => p.health().startsWith('failed'), 5000, 'readiness to fail');
    assert.match(p.health(), /failed: HTTP 503/);
    await waitFor(() => rx.received.length === 1, 5000, 'delivery after retries');
    await waitFor(() => p.health() === 'ok', 2000, 'readiness to recover');
    assert.match((await ctx.metrics.render()).body, /telegen_export_errors_total\{endpoint="[^"]+",error_type="http_503"\} 3/);
  });

  it('honours Retry-After on 429', async () => {
    const { rx, p } = await setup();
    rx.replies.push({ httpStatus: 429, retryAfter: '1' });
    const t0 = Date.now();
    p.push('traces', [span(8)]);
    await waitFor(() => rx.received.length === 1, 5000, 'delivery after Retry-After');
    assert.ok(rx.received[0]!.at - t0 >= 1000, `retried after ${rx.received[0]!.at - t0} ms, Retry-After said 1 s`);
  });

  it('counts a partial success: rejected items dropped, the rest exported', async () => {
    const { rx, p, ctx } = await setup();
    rx.replies.push({ rejected: 3 });
    p.push('traces', Array.from({ length: 10 }, (_, i) => span(i)));
    await p.flush();
    const st = p.status() as { queues: { traces: { exported: number; dropped: number } } };
    assert.deepEqual(st.queues.traces, { ...st.queues.traces, exported: 7, dropped: 3 });
    assert.match((await ctx.metrics.render()).body, /telegen_spans_dropped_total\{reason="rejected"\} 3/);
  });

  it('drops a permanently refused batch (400) without retrying, counted by reason', async () => {
    const { rx, p, ctx } = await setup();
    rx.replies.push({ httpStatus: 400 });
    p.push('traces', [span(1), span(2)]);
    await p.flush();
    await waitFor(() => (p.status() as { queues: { traces: { dropped: number } } }).queues.traces.dropped === 2, 3000, 'drop');
    assert.equal(rx.received.length, 0);
    assert.equal(rx.replies.length, 0);
    assert.match((await ctx.metrics.render()).body, /telegen_spans_dropped_total\{reason="http_400"\} 2/);
  });
});
