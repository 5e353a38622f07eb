import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createPipeline } from '../../src/pipeline/index.js';
import { gauge, logRecord, span, testConfig, testContext, tmp } from './helpers/fixtures.js';

describe('file exporter (OTLP/JSON lines)', () => {
  it('is on with the embedded defaults (no endpoint) and writes traces/metrics/logs.jsonl', async () => {
    const dir = tmp('file');
    const ctx = testContext(testConfig({}, dir));
    assert.equal(ctx.config.otlp.endpoint, '');
    assert.equal(ctx.config.file_exporter.enabled, 'auto');
    const p = createPipeline(ctx);
    await p.start();
    assert.equal(p.health(), 'disabled');
    p.push('traces', [span(1), span(2)]);
    p.push('metrics', [gauge(1, 7)]);
    p.push('logs', [logRecord(3)]);
    assert.deepEqual(await p.flush(), { traces: 2, metrics: 1, logs: 1, profiles: 0 });
    await p.stop();
    const out = join(dir, 'output');
    const line = (f: string) => JSON.parse(readFileSync(join(out, f), 'utf8').trim().split('\n')[0]!);
    const t = line('traces.jsonl');
    const s = t.resourceSpans[0].scopeSpans[0].spans[0];
    assert.equal(s.traceId, 'abcdef01000000000000000000000001'); // hex ids
    assert.equal(s.spanId, 'abcdef0100000002');
    assert.equal(typeof s.startTimeUnixNano, 'string'); // int64 as strings
    assert.deepEqual(s.attributes.find((a: { key: string }) => a.key === 'seq'), { key: 'seq', value: { intValue: '1' } });
    assert.deepEqual(t.resourceSpans[0].scopeSpans[0].scope, { name: 'telegen/http', version: '0.1.0' });
    assert.equal(line('metrics.jsonl').resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[0].asDouble, 7);
    assert.equal(line('logs.jsonl').resourceLogs[0].scopeLogs[0].logRecords[0].body.stringValue, 'line 3');
    const st = p.status() as { queues: { traces: { exported: number } } };
    assert.equal(st.queues.traces.exported, 2);
  });

  it('rotates by size', async () => {
    const dir = tmp('file');
    const p = createPipeline(testContext(testConfig({ file_exporter: { rotate_bytes: 8192 }, otlp: { traces: { batch_size: 5 } } }, dir)));
    await p.start();
    for (let i = 0; i < 20; i++) p.push('traces', Array.from({ length: 10 }, (_, k) => span(i * 10 + k)));
    await p.flush();
    await p.stop();
    const f = join(dir, 'output', 'traces.jsonl');
    assert.ok(existsSync(`${f}.1`), 'rotated file exists');
    assert.ok(statSync(f).size <= 8192 && statSync(`${f}.1`).size <= 8192);
  });

  it('is off by default when an OTLP endpoint is configured', async () => {
    const dir = tmp('file');
    const p = createPipeline(testContext(testConfig({ otlp: { endpoint: '127.0.0.1:9', insecure: true } }, dir)));
    await p.start();
    p.push('traces', [span(1)]);
    await p.stop();
    assert.equal(existsSync(join(dir, 'output', 'traces.jsonl')), false);
  });
});
