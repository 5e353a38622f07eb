// Prometheus remote write against a real Prometheus 2.42 (--web.enable-remote-write-receiver): the values
// must be queryable back.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Metric } from '../../src/model/metric.js';
import { createPipeline } from '../../src/pipeline/index.js';
import { hostRes, testConfig, testContext, tmp } from './helpers/fixtures.js';
import { freePort } from '../helpers/net.js';

async function query(port: number, q: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`);
  const body = await res.json() as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
  return body.data.result;
}

describe('Prometheus remote write (real Prometheus)', () => {
  let prom: ChildProcess;
  let port = 0;
  before(async () => {
    const dir = tmp('prom');
    writeFileSync(join(dir, 'prometheus.yml'), 'global:\n  scrape_interval: 1h\nscrape_configs: []\n');
    port = await freePort();
    prom = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`, '--web.enable-remote-write-receiver'], { stdio: 'ignore' });
    const end = Date.now() + 20_000;
    for (;;) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/-/ready`)).ok) break;
      } catch { /* not yet */ }
      if (Date.now() > end) throw new Error('prometheus did not become ready');
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  after(() => { prom?.kill('SIGKILL'); });

  it('gauges, monotonic sums and histograms are queryable back', async () => {
    const ctx = testContext(testConfig({ remote_write: { enabled: true, endpoint: `http://127.0.0.1:${port}/api/v1/write` }, file_exporter: { enabled: false } }));
    const p = createPipeline(ctx);
    await p.start();
    const now = BigInt(Date.now()) * 1_000_000n;
    const scope = { name: 'telegen/test' };
    const metrics: Metric[] = [
      { type: 'gauge', name: 'tg.rw.temperature', description: '', unit: 'Cel', resource: hostRes, scope, points: [{ attributes: { sensor: 'a' }, startTimeUnixNano: now, timeUnixNano: now, value: 21.5 }] },
      { type: 'sum', name: 'tg_rw_requests', description: '', unit: '1', monotonic: true, temporality: 'cumulative', resource: hostRes, scope, points: [{ attributes: { code: '200' }, startTimeUnixNano: now, timeUnixNano: now, value: 1234, isInt: true }] },
      { type: 'histogram', name: 'tg_rw_latency', description: '', unit: 's', temporality: 'cumulative', resource: hostRes, scope, points: [{ attributes: {}, startTimeUnixNano: now, timeUnixNano: now, count: 6, sum: 3.5, explicitBounds: [0.1, 1], bucketCounts: [1, 2, 3] }] },
    ];
    assert.equal(p.push('metrics', metrics), 3);
    const n = await p.flush();
    assert.equal(n.metrics, 3);
    const g = await query(port, 'tg_rw_temperature');
    assert.equal(g.length, 1);
    assert.equal(g[0]!.value[1], '21.5');
    assert.equal(g[0]!.metric.sensor, 'a');
    assert.equal(g[0]!.metric.job, 'telegen-test');
    assert.equal(g[0]!.metric.instance, 'test-host');
    assert.equal((await query(port, 'tg_rw_requests_total{code="200"}'))[0]!.value[1], '1234');
    const buckets = await query(port, 'tg_rw_latency_bucket');
    assert.deepEqual(Object.fromEntries(buckets.map((b) => [b.metric.le, b.value[1]])), { '0.1': '1', '1': '3', '+Inf': '6' });
    assert.equal((await query(port, 'tg_rw_latency_count'))[0]!.value[1], '6');
    assert.equal((await query(port, 'tg_rw_latency_sum'))[0]!.value[1], '3.5');
    assert.match((await ctx.metrics.render()).body, /telegen_remote_write_samples_total\{result="sent"\} 7/);
    await p.stop();
  });
});
