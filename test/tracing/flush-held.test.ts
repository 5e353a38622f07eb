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
});
