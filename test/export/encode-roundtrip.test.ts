// Round trip over randomized inputs: what the hand-written encoder writes must decode, with OpenTelemetry's
// own generated decoder, to exactly the data we started from.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { attributeCacheStats, resetAttributeCache } from '../../src/export/proto/attributes.js';
import { encodeLogs, encodeMetrics, encodeTraces } from '../../src/export/proto/encode-otlp.js';
import type { AttributeValue, Attributes, Resource } from '../../src/model/attributes.js';
import type { LogRecord } from '../../src/model/log.js';
import type { Metric } from '../../src/model/metric.js';
import type { Span } from '../../src/model/span.js';
import { decodeRequest } from './helpers/otlp-decoder.js';

// A small seeded PRNG so a failure can be replayed (the seed is in the test name).
function rng(seed: number) {
  let s = seed >>> 0;
  const next = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const int = (n: number) => Math.floor(next() * n);
  const str = (max: number) => {
    const alphabet = 'abcXYZ09 _-./é€𝄞日本';
    const chars = [...alphabet];
    return Array.from({ length: int(max + 1) }, () => chars[int(chars.length)]).join('');
  };
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => int(256));
  const big = () => BigInt(int(2 ** 31)) * 2n ** 32n + BigInt(int(2 ** 32));
  const value = (): AttributeValue => {
    switch (int(7)) {
      case 0: return str(300);
      case 1: return next() < 0.5;
      case 2: return next() < 0.8 ? int(2 ** 31) - 2 ** 30 : int(2 ** 53); // 2^31..2^53: the no-BigInt varint path
      case 3: return (next() - 0.5) * 1e6 + 0.25;
      case 4: return -big();
      case 5: return Array.from({ length: int(4) }, () => str(10));
      default: return Array.from({ length: int(4) }, () => int(1000));
    }
  };
  const attrs = (max: number): Attributes => Object.fromEntries(Array.from({ length: int(max + 1) }, (_, i) => [`k${i}.${str(5)}`, value()]));
  return { next, int, str, bytes, big, attrs };
}

// The decoded (toObject) form of our model values, as the generated decoder presents them.
function anyValue(v: AttributeValue): unknown {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'bigint') return { intValue: String(BigInt.asIntN(64, v)) };
  if (typeof v === 'number') return Number.isSafeInteger(v) ? { intValue: String(v) } : { doubleValue: v };
  return { arrayValue: { values: (v as readonly (string | number)[]).map(anyValue) } };
}
const kvs = (a: Attributes) => Object.entries(a).map(([key, value]) => ({ key, value: anyValue(value) }));
const hex = (b: Uint8Array | Buffer | undefined) => (b && b.length ? Buffer.from(b).toString('hex') : undefined);

function resources(r: ReturnType<typeof rng>, n: number): Resource[] {
  return Array.from({ length: n }, (_, i) => ({ attributes: { 'service.name': `svc-${i}`, ...r.attrs(4) } }));
}

describe('OTLP protobuf encoder round trip (OpenTelemetry generated decoder)', () => {
  for (const seed of [1, 2, 3, 42, 1337]) {
    it(`traces, seed ${seed}`, () => {
      const r = rng(seed);
      const res = resources(r, 1 + r.int(3));
      const spans: Span[] = Array.from({ length: 1 + r.int(60) }, () => ({
        traceId: r.bytes(16), spanId: r.bytes(8), ...(r.next() < 0.5 ? { parentSpanId: r.bytes(8) } : {}),
        ...(r.next() < 0.2 ? { traceState: 'a=b' } : {}),
        name: r.str(r.next() < 0.1 ? 400 : 30), kind: r.int(6) as Span['kind'],
        startTimeUnixNano: r.big(), endTimeUnixNano: r.big(), attributes: r.attrs(r.next() < 0.1 ? 40 : 6),
        status: { code: r.int(3) as Span['status']['code'], ...(r.next() < 0.3 ? { message: r.str(20) } : {}) },
        resource: res[r.int(res.length)]!, scope: { name: `scope-${r.int(2)}`, version: '1.0' },
      }));
      const decoded = decodeRequest('traces', encodeTraces(spans));
      // Flatten back to (resource, scope, span) and compare every field.
      const got: Array<{ res: unknown; scope: unknown; span: Record<string, unknown> }> = [];
      for (const rs of decoded.resourceSpans) for (const ss of rs.scopeSpans) for (const sp of ss.spans) got.push({ res: rs.resource.attributes, scope: ss.scope, span: sp });
      assert.equal(got.length, spans.length);
      // Grouping keeps first-seen order of resources; compare as multisets keyed by span id.
      const bySpanId = new Map(got.map((g) => [hex(g.span.spanId as Buffer), g]));
      for (const s of spans) {
        const g = bySpanId.get(hex(s.spanId))!;
        assert.ok(g, 'span present');
        assert.deepEqual(g.res, kvs(s.resource.attributes));
        assert.deepEqual(g.scope, { attributes: [], name: s.scope.name, version: s.scope.version });
        const sp = g.span;
        assert.equal(hex(sp.traceId as Buffer), hex(s.traceId));
        assert.equal(hex(sp.parentSpanId as Buffer | undefined), hex(s.parentSpanId));
        assert.equal(sp.traceState ?? undefined, s.traceState);
        assert.equal(sp.name, s.name);
        assert.equal(sp.kind ?? 0, s.kind);
        assert.equal(sp.startTimeUnixNano, String(s.startTimeUnixNano));
        assert.equal(sp.endTimeUnixNano, String(s.endTimeUnixNano));
        assert.deepEqual(sp.attributes, kvs(s.attributes));
        const st = (sp.status ?? {}) as { code?: number; message?: string };
        assert.equal(st.code ?? 0, s.status.code);
        assert.equal(st.message || undefined, s.status.message || undefined);
      }
    });

    it(`metrics, seed ${seed}`, () => {
      const r = rng(seed);
      const res = resources(r, 2);
      const t = () => r.big();
      const metrics: Metric[] = Array.from({ length: 1 + r.int(30) }, (_, i): Metric => {
        const base = { name: `m${i}_${r.str(8)}`, description: r.str(20), unit: r.next() < 0.5 ? 'By' : '', resource: res[r.int(2)]!, scope: { name: 'telegen/test' } };
        const points = () => Array.from({ length: 1 + r.int(4) }, () => {
          const isInt = r.next() < 0.5;
          return { attributes: r.attrs(3), startTimeUnixNano: t(), timeUnixNano: t(), value: isInt ? r.int(2 ** 40) - 2 ** 39 : (r.next() - 0.5) * 1e9, isInt };
        });
        switch (r.int(3)) {
          case 0: return { ...base, type: 'gauge', points: points() };
          case 1: return { ...base, type: 'sum', monotonic: r.next() < 0.5, temporality: r.next() < 0.5 ? 'delta' : 'cumulative', points: points() };
          default: {
            const bounds = Array.from({ length: r.int(8) }, (_, k) => k * 2.5 + 0.5);
            return {
              ...base, type: 'histogram', temporality: 'cumulative',
              points: [{
                attributes: r.attrs(2), startTimeUnixNano: t(), timeUnixNano: t(), count: r.int(1e6), sum: r.next() * 1e4,
                ...(r.next() < 0.5 ? { min: r.next(), max: r.next() * 100 } : {}),
                explicitBounds: bounds, bucketCounts: Array.from({ length: bounds.length + 1 }, () => r.int(1e5)),
              }],
            };
          }
        }
      });
      const decoded = decodeRequest('metrics', encodeMetrics(metrics));
      const got = new Map<string, { res: unknown; m: Record<string, any> }>(); // eslint-disable-line @typescript-eslint/no-explicit-any
      for (const rm of decoded.resourceMetrics) for (const sm of rm.scopeMetrics) for (const m of sm.metrics) got.set(m.name, { res: rm.resource.attributes, m });
      assert.equal(got.size, metrics.length);
      const TEMP = { delta: 1, cumulative: 2 };
      for (const m of metrics) {
        const g = got.get(m.name)!;
        assert.deepEqual(g.res, kvs(m.resource.attributes));
        assert.equal(g.m.description ?? '', m.description);
        assert.equal(g.m.unit ?? '', m.unit);
        if (m.type === 'histogram') {
          assert.equal(g.m.histogram.aggregationTemporality, TEMP[m.temporality]);
          const [dp] = g.m.histogram.dataPoints;
          const p = m.points[0]!;
          assert.equal(dp.count, String(p.count));
          assert.equal(dp.sum, p.sum);
          assert.deepEqual(dp.bucketCounts, p.bucketCounts.map(String));
          assert.deepEqual(dp.explicitBounds, p.explicitBounds);
          assert.equal(dp.min ?? undefined, p.min);
          assert.equal(dp.max ?? undefined, p.max);
          assert.deepEqual(dp.attributes, kvs(p.attributes));
          assert.equal(dp.timeUnixNano, String(p.timeUnixNano));
        } else {
          const data = m.type === 'gauge' ? g.m.gauge : g.m.sum;
          if (m.type === 'sum') {
            assert.equal(data.aggregationTemporality, TEMP[m.temporality]);
            assert.equal(data.isMonotonic ?? false, m.monotonic);
          }
          assert.equal(data.dataPoints.length, m.points.length);
          m.points.forEach((p, i) => {
            const dp = data.dataPoints[i];
            if (p.isInt) assert.equal(dp.asInt, String(p.value));
            else assert.equal(dp.asDouble, p.value);
            assert.equal(dp.startTimeUnixNano, String(p.startTimeUnixNano));
            assert.equal(dp.timeUnixNano, String(p.timeUnixNano));
            assert.deepEqual(dp.attributes, kvs(p.attributes));
          });
        }
      }
    });

    it(`logs, seed ${seed}`, () => {
      const r = rng(seed);
      const res = resources(r, 2);
      const logs: LogRecord[] = Array.from({ length: 1 + r.int(40) }, (_, i) => ({
        timeUnixNano: r.big(), observedTimeUnixNano: r.big(), severityNumber: r.int(25), ...(r.next() < 0.5 ? { severityText: 'WARN' } : {}),
        body: `${i}:${r.str(r.next() < 0.1 ? 500 : 40)}`, attributes: r.attrs(5),
        ...(r.next() < 0.5 ? { traceId: r.bytes(16), spanId: r.bytes(8) } : {}),
        resource: res[r.int(2)]!, scope: { name: 'telegen/logs' },
      }));
      const decoded = decodeRequest('logs', encodeLogs(logs));
      const got = new Map<string, { res: unknown; l: Record<string, any> }>(); // eslint-disable-line @typescript-eslint/no-explicit-any
      for (const rl of decoded.resourceLogs) for (const sl of rl.scopeLogs) for (const l of sl.logRecords) got.set(l.body.stringValue, { res: rl.resource.attributes, l });
      assert.equal(got.size, logs.length);
      for (const l of logs) {
        const g = got.get(l.body)!;
        assert.deepEqual(g.res, kvs(l.resource.attributes));
        assert.equal(g.l.timeUnixNano, String(l.timeUnixNano));
        assert.equal(g.l.observedTimeUnixNano, String(l.observedTimeUnixNano));
        assert.equal(g.l.severityNumber ?? 0, l.severityNumber);
        assert.equal(g.l.severityText ?? undefined, l.severityText);
        assert.deepEqual(g.l.attributes, kvs(l.attributes));
        assert.equal(hex(g.l.traceId), hex(l.traceId));
        assert.equal(hex(g.l.spanId), hex(l.spanId));
      }
    });
  }

  it('groups items by resource content, not object identity', () => {
    const a: Resource = { attributes: { 'service.name': 'x', 'host.name': 'h' } };
    const b: Resource = { attributes: { 'host.name': 'h', 'service.name': 'x' } };
    const mk = (res: Resource, n: number): Span => ({
      traceId: new Uint8Array(16).fill(n), spanId: new Uint8Array(8).fill(n), name: 's', kind: 1,
      startTimeUnixNano: 1n, endTimeUnixNano: 2n, attributes: {}, status: { code: 0 }, resource: res, scope: { name: 'sc' },
    });
    const decoded = decodeRequest('traces', encodeTraces([mk(a, 1), mk(b, 2), mk(a, 3)]));
    assert.equal(decoded.resourceSpans.length, 1);
    assert.equal(decoded.resourceSpans[0].scopeSpans[0].spans.length, 3);
  });
  it('repeated attribute pairs (copied from the KeyValue cache), tiny and >16 KiB spans, across requests', () => {
    const r = rng(7);
    const res: Resource = { attributes: { 'service.name': 'cached' } };
    const keys = ['http.request.method', 'server.port', 'flag', 'ratio', 'é.key', 'url.path'];
    const pick = <T>(xs: readonly T[]) => xs[r.int(xs.length)]!;
    const values: AttributeValue[] = ['GET', 'POST', 'é€𝄞', '', 8080, 443, -7, true, false, 0.5, 2 ** 40];
    const mk = (i: number): Span => ({
      traceId: r.bytes(16), spanId: Uint8Array.from([0, 0, 0, 0, i >> 24, i >> 16, i >> 8, i]), name: i % 50 === 0 ? 'x'.repeat(17_000) : i % 7 === 0 ? '' : `op ${i % 3}`,
      kind: 1, startTimeUnixNano: r.big(), endTimeUnixNano: r.big(),
      // Low-cardinality keys and values (cache hits), url.path high-cardinality (past the per-key bound).
      attributes: i % 7 === 0 ? {} : Object.fromEntries(keys.map((k) => [k, k === 'url.path' ? `/items/${i}` : pick(values)])),
      status: { code: 0 }, resource: res, scope: { name: 'sc' },
    });
    for (const round of [0, 1]) {
      const spans = Array.from({ length: 300 }, (_, i) => mk(i + round * 300));
      const decoded = decodeRequest('traces', encodeTraces(spans));
      const got = decoded.resourceSpans[0].scopeSpans[0].spans as Array<Record<string, unknown>>;
      assert.equal(got.length, spans.length);
      spans.forEach((s, i) => {
        assert.equal(got[i]!.name, s.name);
        assert.equal(hex(got[i]!.spanId as Buffer), hex(s.spanId));
        assert.equal(got[i]!.startTimeUnixNano, String(s.startTimeUnixNano));
        assert.deepEqual(got[i]!.attributes, kvs(s.attributes));
      });
    }
  });

  // Strings the writer's fast paths must not get wrong: empty, ASCII at the 127/128-byte length boundaries, every
  // UTF-8 width, lone surrogates (sent as U+FFFD, like TextEncoder), huge. Used as names, keys and values.
  const tricky = ['', 'a', 'x'.repeat(127), 'x'.repeat(128), 'é'.repeat(42), 'é'.repeat(43), '€'.repeat(43), '𝄞', 'ab\uD800', '\uDC00z',
    'a\uD83D', 'x'.repeat(63) + 'é', 'y'.repeat(64), 'y'.repeat(65), 'z'.repeat(70_000), '日本'.repeat(10_000)];
  const wellFormed = (s: string) => s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
  const wellFormedAttrs = (a: Attributes): Attributes => Object.fromEntries(Object.entries(a).map(([k, v]) => [wellFormed(k), typeof v === 'string' ? wellFormed(v) : Array.isArray(v) ? v.map((x) => (typeof x === 'string' ? wellFormed(x) : x)) : v]));

  it('tricky strings as span names, attribute keys and values, twice (second time from the caches)', () => {
    const res: Resource = { attributes: { 'service.name': 'tricky' } };
    const mk = (i: number, name: string): Span => ({
      traceId: new Uint8Array(16).fill(i), spanId: Uint8Array.from([0, 0, 0, 0, 0, 0, i >> 8, i & 255]), name, kind: 1,
      startTimeUnixNano: BigInt(i), endTimeUnixNano: 2n ** 64n - 1n, status: { code: 0 }, resource: res, scope: { name: 'sc' },
      attributes: { [name.length < 100 ? `k.${name}` : `long.${i}`]: name, value: name, list: [name, 'b'], n: i, neg: -i, f: i + 0.5 },
    });
    for (const round of [0, 1]) {
      const spans = tricky.map((t, i) => mk(i, t));
      const got = decodeRequest('traces', encodeTraces(spans)).resourceSpans[0].scopeSpans[0].spans as Array<Record<string, unknown>>;
      assert.equal(got.length, spans.length, `round ${round}`);
      spans.forEach((s, i) => {
        assert.equal(got[i]!.name, wellFormed(s.name), `name ${i}`);
        assert.deepEqual(got[i]!.attributes, kvs(wellFormedAttrs(s.attributes)), `attributes ${i}`);
        assert.equal(got[i]!.endTimeUnixNano, '18446744073709551615');
      });
    }
  });

  it('more distinct keys than the cache holds, and a key whose values stop repeating, stay exact', () => {
    resetAttributeCache(); // earlier tests' random keys may fill the table
    const before = attributeCacheStats();
    const res: Resource = { attributes: { 'service.name': 'many' } };
    const mk = (i: number): Span => ({
      traceId: new Uint8Array(16).fill(1), spanId: Uint8Array.from([0, 0, 0, 0, i >> 24, i >> 16, i >> 8, i]), name: 'op', kind: 2,
      startTimeUnixNano: 1n, endTimeUnixNano: 2n, status: { code: 0 }, resource: res, scope: { name: 'sc' },
      // Fresh keys on every span (far beyond the key table), in varying positions; a key with 3 values; one whose
      // values repeat for a while, then never (past the value table, then the miss window), then repeat again.
      attributes: i % 3 === 0
        ? { [`fresh.${i}`]: i, method: ['GET', 'PUT', 'é'][i % 3]!, phase: i < 1500 || i > 6000 ? `v${i % 10}` : `v${i}`, [`fresh2.${i}é`]: `x${i}` }
        : { method: ['GET', 'PUT', 'é'][i % 3]!, [`fresh.${i}`]: true, phase: i < 1500 || i > 6000 ? `v${i % 10}` : `v${i}` },
    });
    for (let from = 0; from < 8000; from += 500) {
      const spans = Array.from({ length: 500 }, (_, k) => mk(from + k));
      const got = decodeRequest('traces', encodeTraces(spans)).resourceSpans[0].scopeSpans[0].spans as Array<Record<string, unknown>>;
      spans.forEach((s, k) => assert.deepEqual(got[k]!.attributes, kvs(s.attributes), `span ${from + k}`));
    }
    const after = attributeCacheStats();
    assert.ok(after.keys <= 512, `key table bounded (${after.keys})`);
    assert.ok(after.bytes <= 4 * 1024 * 1024, 'value bytes bounded');
    assert.ok(after.uncachedKeyWrites > before.uncachedKeyWrites, 'keys past the table were written uncached');
    assert.ok(after.highCardinalityKeys > before.highCardinalityKeys, 'the non-repeating phase was detected');
  });

  it('span names: runs of one name, more distinct names than the name cache, non-ASCII, in and out of the cache', () => {
    const res: Resource = { attributes: { 'service.name': 'names' } };
    const nameOf = (i: number) => (i % 5 === 0 ? `op-${i % 300}-é` : i % 7 === 0 ? 'n'.repeat(65 + (i % 3)) : `GET /r/${Math.floor(i / 40) % 90}`);
    for (const from of [0, 1000, 0]) {
      const spans: Span[] = Array.from({ length: 1000 }, (_, k) => ({
        traceId: new Uint8Array(16).fill(2), spanId: Uint8Array.from([0, 0, 0, 0, 0, 0, k >> 8, k & 255]), name: nameOf(from + k), kind: 1,
        startTimeUnixNano: 1n, endTimeUnixNano: 2n, attributes: {}, status: { code: 0 }, resource: res, scope: { name: 'sc' },
      }));
      const got = decodeRequest('traces', encodeTraces(spans)).resourceSpans[0].scopeSpans[0].spans as Array<Record<string, unknown>>;
      spans.forEach((s, k) => assert.equal(got[k]!.name, s.name, `span ${from + k}`));
    }
  });
});
