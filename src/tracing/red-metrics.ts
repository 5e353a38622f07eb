// RED metrics from spans: http.server.request.duration and http.client.request.duration histograms (seconds,
// semconv buckets) per service (the process resource) × method × status × route. Cumulative; the series
// count is bounded (new series beyond it are dropped and counted) and idle series are forgotten.
import type { Attributes, Resource } from '../model/attributes.js';
import type { HistogramMetric, HistogramPoint } from '../model/metric.js';
import { HTTP_SCOPE } from './span-builder.js';

export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10] as const;

export type RequestKind = 'server' | 'client';

interface Series {
  kind: RequestKind;
  resource: Resource;
  attributes: Attributes;
  startNs: bigint;
  lastUpdateMs: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  buckets: number[];
}

const METRIC_NAME: Record<RequestKind, string> = {
  server: 'http.server.request.duration',
  client: 'http.client.request.duration',
};
const DESCRIPTION: Record<RequestKind, string> = {
  server: 'Duration of HTTP server requests.',
  client: 'Duration of HTTP client requests.',
};

export class RedMetrics {
  private readonly series = new Map<string, Series>();
  dropped = 0;

  constructor(private maxSeries: number, private readonly idleMs = 10 * 60_000) {}

  setMaxSeries(n: number): void {
    this.maxSeries = n;
  }

  get size(): number {
    return this.series.size;
  }

  record(kind: RequestKind, resource: Resource, method: string, status: number, route: string | undefined, seconds: number, nowNs: bigint): boolean {
    const rid = this.resourceId(resource);
    const key = `${kind}\u0000${rid}\u0000${method}\u0000${status}\u0000${route ?? ''}`;
    let s = this.series.get(key);
    if (!s) {
      if (this.series.size >= this.maxSeries) {
        this.dropped++;
        return false;
      }
      const attributes: Attributes = { 'http.request.method': method, 'http.response.status_code': status };
      if (route !== undefined) attributes['http.route'] = route;
      s = {
        kind, resource, attributes, startNs: nowNs, lastUpdateMs: 0, count: 0, sum: 0, min: Infinity, max: -Infinity,
        buckets: new Array<number>(DURATION_BUCKETS.length + 1).fill(0),
      };
      this.series.set(key, s);
    }
    s.lastUpdateMs = Date.now();
    s.resource = resource;
    s.count++;
    s.sum += seconds;
    if (seconds < s.min) s.min = seconds;
    if (seconds > s.max) s.max = seconds;
    let i = 0;
    while (i < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[i]!) i++;
    s.buckets[i]!++;
    return true;
  }

  /** One histogram metric per (kind, resource), with a point per attribute set. */
  collect(nowNs: bigint): HistogramMetric[] {
    const byResource = new Map<string, HistogramMetric>();
    const now = Date.now();
    for (const [key, s] of this.series) {
      if (now - s.lastUpdateMs > this.idleMs) {
        this.series.delete(key);
        continue;
      }
      const mkey = `${s.kind}\u0000${this.resourceId(s.resource)}`;
      let m = byResource.get(mkey);
      if (!m) {
        m = {
          type: 'histogram', name: METRIC_NAME[s.kind], description: DESCRIPTION[s.kind], unit: 's',
          temporality: 'cumulative', resource: s.resource, scope: HTTP_SCOPE, points: [],
        };
        byResource.set(mkey, m);
      }
      const p: HistogramPoint = {
        attributes: s.attributes, startTimeUnixNano: s.startNs, timeUnixNano: nowNs, count: s.count, sum: s.sum,
        min: s.min, max: s.max, explicitBounds: DURATION_BUCKETS, bucketCounts: [...s.buckets],
      };
      m.points.push(p);
    }
    return [...byResource.values()];
  }

  /** Resources are rebuilt by discovery; series follow the process (service, pid), not the object. */
  private resourceId(r: Resource): string {
    const a = r.attributes;
    return `${String(a['service.name'] ?? '')}|${String(a['process.pid'] ?? '')}|${String(a['container.id'] ?? '')}`;
  }
}
