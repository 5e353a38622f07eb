// Flood: 10× the queue capacity pushed at once, again and again, with the backend down and a small disk cap.
// Producers never block, RSS stays bounded, and every item is accounted for exactly: accepted + refused =
// pushed, refused = dropped{queue_full}, accepted = waiting + exported + dropped{disk_full}.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createPipeline } from '../../src/pipeline/index.js';
import { span, testConfig, testContext } from '../export/helpers/fixtures.js';

interface Q { size: number; capacity: number; exported: number; dropped: number }

describe('flood: bounded memory, exact drop accounting', () => {
  const stops: Array<() => Promise<void>> = [];
  after(async () => { for (const s of stops) await s(); });

  it('pushes 10× capacity per round for 12 rounds', async (t) => {
    const capacity = 5000;
    const ctx = testContext(testConfig({
      // Port 9 (discard) on loopback: connection refused, so nothing drains. No compression: the queue holds
      // the batches as encoded, so 60k spans overflow the 4 MiB disk cap (gzipped they would fit).
      otlp: { endpoint: '127.0.0.1:9', protocol: 'grpc', insecure: true, compression: 'none', flush_interval: '20ms', retry: { initial_interval: '1s' }, traces: { batch_size: 500, queue_capacity: capacity } },
      queue: { max_bytes: 4 * 1024 * 1024 }, shutdown_timeout: '1s',
    }));
    const p = createPipeline(ctx);
    await p.start();
    stops.push(() => p.stop());
    let pushed = 0;
    let accepted = 0;
    let rssAfterWarmup = 0;
    let rssMax = 0;
    // One set of span objects pushed every round, so the test itself makes no garbage: RSS shows what the
    // pipeline retains.
    const batch = Array.from({ length: capacity * 10 }, (_, i) => span(i));
    for (let round = 0; round < 12; round++) {
      const t0 = process.hrtime.bigint();
      const n = p.push('traces', batch);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      assert.ok(ms < 500, `push returned in ${ms.toFixed(1)} ms (never blocks)`);
      assert.ok(n <= capacity);
      pushed += batch.length;
      accepted += n;
      await new Promise((r) => setTimeout(r, 60)); // let the batcher move the queue to the persistent store
      const rss = process.memoryUsage().rss;
      if (round === 1) rssAfterWarmup = rss;
      if (round > 1) rssMax = Math.max(rssMax, rss);
    }
    const m = (await ctx.metrics.render()).body;
    const metric = (re: RegExp) => Number(re.exec(m)?.[1] ?? 0);
    const queueFull = metric(/telegen_spans_dropped_total\{reason="queue_full"\} (\d+)/);
    const diskFull = metric(/telegen_spans_dropped_total\{reason="disk_full"\} (\d+)/);
    const q = (p.status() as { queues: { traces: Q } }).queues.traces;
    t.diagnostic(`pushed ${pushed}, accepted ${accepted}, queue_full ${queueFull}, disk_full ${diskFull}, waiting ${q.size}, rss warm ${(rssAfterWarmup / 2 ** 20).toFixed(0)} MiB, max ${(rssMax / 2 ** 20).toFixed(0)} MiB`);
    assert.equal(pushed - accepted, queueFull, 'refused at push = dropped{queue_full}');
    assert.ok(diskFull > 0, 'the disk cap was reached and counted');
    assert.equal(q.dropped, queueFull + diskFull, 'status dropped = every counted drop');
    assert.equal(accepted, q.size + q.exported + diskFull, 'accepted items are waiting, exported, or dropped by the disk cap');
    assert.equal(q.capacity, capacity);
    assert.ok(rssMax - rssAfterWarmup < 64 * 2 ** 20, `RSS grew ${((rssMax - rssAfterWarmup) / 2 ** 20).toFixed(0)} MiB after warm-up`);
  });
});
