// POST /admin/flush reaches into the HTTP tracer: spans of finished exchanges still in the kernel ring (up to
// agent.ebpf.delivery_latency) or waiting for their burst in the tracer (up to agent.ebpf.http.batch_delay) are
// pushed when the flush asks, not when those timers would have let them go. Real eBPF, a real python server, curl.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind } from '../../src/model/span.js';
import { bpfSkipReason, freePort, Procs, run, sleep, startAgentSlice, waitForPort, type AgentSlice } from './helpers.js';

const skip = bpfSkipReason();
if (skip) console.log(`# skipping flush-held capture test: ${skip}`);

describe('the HTTP tracer hands over what it holds when asked (flushHeld)', { skip }, () => {
  const procs = new Procs();
  let slice: AgentSlice | undefined;
  after(async () => {
    procs.killAll();
    await slice?.stop();
  });

  it('a span held by the tracer (batch_delay 30 s) and one still in the ring (delivery_latency 10 s) are both pushed at once', async () => {
    slice = await startAgentSlice((c) => {
      c.agent.ebpf.delivery_latency = '10s';
      c.agent.ebpf.http.batch_delay = '30s';
    });
    const port = await freePort();
    procs.spawn('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', procs.tempDir('tg-flush-')]);
    await waitForPort(port);
    const servers = () => slice!.spans.filter((s) => s.kind === SpanKind.SERVER && s.attributes['server.port'] === port);
    // The first exchange after a quiet spell wakes the ring's consumer at once (then waits in the tracer); the
    // second comes within delivery_latency of that wake-up, so BPF does not force another: it stays in the ring.
    for (const path of ['/first', '/second']) {
      const r = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${port}${path}`], procs);
      assert.equal(r.stdout, '404');
      await sleep(300);
    }
    assert.equal(servers().length, 0, 'nothing pushed before the flush: both exchanges are held');
    const t0 = performance.now();
    await slice.tracer.flushHeld!();
    const tookMs = performance.now() - t0;
    assert.deepEqual(servers().map((s) => s.attributes['url.path']).sort(), ['/first', '/second']);
    assert.ok(tookMs < 2000, `the flush took ${tookMs.toFixed(0)} ms (the ring's own timer would take up to 10 s)`);
    assert.ok(slice.ctx.pushed.traces.length >= 2, 'the spans went into the sink');
  });

  it('a burst of held exchanges reaches the sink in runs of at most 256 spans, in order, none lost', async () => {
    await slice?.stop();
    slice = await startAgentSlice((c) => {
      c.agent.ebpf.http.batch_delay = '30s';
    });
    const runs: number[] = [];
    const push = slice.ctx.sink.push.bind(slice.ctx.sink);
    slice.ctx.sink.push = (signal, items) => {
      if (signal === 'traces') runs.push(items.length);
      return push(signal, items);
    };
    const port = await freePort();
    procs.spawn('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', procs.tempDir('tg-runs-')]);
    await waitForPort(port);
    const n = 700;
    for (let i = 0; i < n; i++) await (await fetch(`http://127.0.0.1:${port}/r${i}`)).arrayBuffer();
    await slice.tracer.flushHeld!();
    const paths = slice.ctx.pushed.traces.filter((s) => s.attributes['server.port'] === port).map((s) => s.attributes['url.path']);
    assert.equal(paths.length, n, 'one server span per request');
    assert.deepEqual(paths, Array.from({ length: n }, (_, i) => `/r${i}`), 'in request order');
    assert.ok(runs.length >= 3, `pushed in ${runs.length} runs`);
    assert.ok(Math.max(...runs) <= 256, `largest run ${Math.max(...runs)} spans`);
  });
});
