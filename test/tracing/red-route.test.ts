// RED histograms (bounded series, semconv buckets, per process resource) and http.route templates.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DURATION_BUCKETS, RedMetrics } from '../../src/tracing/red-metrics.js';
import { RouteMatcher } from '../../src/tracing/route.js';
import { parseTraceparent } from '../../src/tracing/trace-context.js';

const res = (pid: number) => ({ attributes: { 'service.name': `svc${pid}`, 'process.pid': pid } });

describe('RED metrics', () => {
  it('buckets observations with the semconv bounds; count and sum add up', () => {
    const red = new RedMetrics(100);
    for (const s of [0.001, 0.005, 0.006, 0.3, 12]) red.record('server', res(1), 'GET', 200, '/a', s, 1n);
    const [m] = red.collect(2n);
    assert.equal(m!.name, 'http.server.request.duration');
    assert.equal(m!.type, 'histogram');
    const p = m!.type === 'histogram' ? m!.points[0]! : undefined;
    assert.deepEqual(p!.explicitBounds, DURATION_BUCKETS);
    // ≤0.005: 0.001, 0.005 · ≤0.01: 0.006 · ≤0.5: 0.3 · >10: 12
    assert.deepEqual(p!.bucketCounts, [2, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1]);
    assert.equal(p!.count, 5);
    assert.equal(p!.min, 0.001);
    assert.equal(p!.max, 12);
    assert.ok(Math.abs(p!.sum - 12.312) < 1e-9);
  });

  it('one metric per (kind, process) with a point per method/status/route; series beyond the bound are dropped', () => {
    const red = new RedMetrics(3);
    assert.ok(red.record('server', res(1), 'GET', 200, '/a', 0.1, 1n));
    assert.ok(red.record('server', res(1), 'GET', 500, '/a', 0.1, 1n));
    assert.ok(red.record('client', res(2), 'POST', 201, '/b', 0.1, 1n));
    assert.equal(red.record('server', res(1), 'GET', 200, '/c', 0.1, 1n), false);
    assert.ok(red.record('server', res(1), 'GET', 200, '/a', 0.2, 1n), 'existing series still count');
    assert.equal(red.dropped, 1);
    const ms = red.collect(2n);
    assert.deepEqual(ms.map((m) => [m.name, m.resource.attributes['process.pid'], m.points.length]).sort(),
      [['http.client.request.duration', 2, 1], ['http.server.request.duration', 1, 2]]);
  });
});

describe('http.route', () => {
  it('configured patterns win, most specific first; the heuristic replaces identifiers', () => {
    const r = new RouteMatcher(['/users/{id}', '/users/me', '/static/*', '/orders/:order/items/{item}']);
    assert.equal(r.route('/users/me'), '/users/me');
    assert.equal(r.route('/users/42'), '/users/{id}');
    assert.equal(r.route('/static/css/site.css'), '/static/*');
    assert.equal(r.route('/orders/7/items/9'), '/orders/:order/items/{item}');
    assert.equal(r.route('/api/v2/items/123e4567-e89b-12d3-a456-426614174000'), '/api/v2/items/{id}');
    assert.equal(r.route('/blob/3f2a9c1b7d4e5f60'), '/blob/{id}');
    assert.equal(r.route('/health'), '/health');
    assert.equal(r.route('/'), '/');
    assert.equal(r.route('/a/b/c/d/e/f/g/h/i/j/k/l/m/n'), '/a/b/c/d/e/f/g/h/i/j/k/l/*');
  });
});

describe('traceparent', () => {
  it('accepts version 00 and rejects invalid or all-zero ids', () => {
    assert.ok(parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'));
    assert.equal(parseTraceparent('00-00000000000000000000000000000000-00f067aa0ba902b7-01'), undefined);
    assert.equal(parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01'), undefined);
    assert.equal(parseTraceparent('ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'), undefined);
    assert.equal(parseTraceparent('00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01'), undefined);
    assert.equal(parseTraceparent('garbage'), undefined);
  });
});
