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

/** One (kind, service) group: series by route, then method, then status (nested maps: no key string per span). */
interface Group {
  kind: RequestKind;
  resource: Resource;
  byRoute: Map<string, Map<string, Map<number, Series>>>;
}

export class RedMetrics {
  /** By kind + resource id (the process, not the Resource object: discovery rebuilds those). */
  private readonly groups = new Map<string, Group>();
  /** Resource object → its id, so the id string is built once per object, not per span. */
  private readonly ids = new WeakMap<Resource, string>();
  private count = 0;
  dropped = 0;

  constructor(private maxSeries: number, private readonly idleMs = 10 * 60_000) {}

  setMaxSeries(n: number): void {
    this.maxSeries = n;
  }

  get size(): number {
    return this.count;
  }

  /** `nowMs`: wall-clock ms for idle expiry (coarse is fine: series idle for minutes are forgotten). */
  record(kind: RequestKind, resource: Resource, method: string, status: number, route: string | undefined, seconds: number, nowNs: bigint, nowMs = Date.now()): boolean {
    let rid = this.ids.get(resource);
    if (rid === undefined) this.ids.set(resource, (rid = resourceId(resource)));
    const gkey = kind === 'server' ? `s${rid}` : `c${rid}`;
    let g = this.groups.get(gkey);
    if (!g) this.groups.set(gkey, (g = { kind, resource, byRoute: new Map() }));
    g.resource = resource;
    const r = route ?? '';
    let byMethod = g.byRoute.get(r);
    if (!byMethod) g.byRoute.set(r, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (!byStatus) byMethod.set(method, (byStatus = new Map()));
    let s = byStatus.get(status);
    if (!s) {
      if (this.count >= this.maxSeries) {
        this.dropped++;
        return false;
      }
      const attributes: Attributes = { 'http.request.method': method, 'http.response.status_code': status };
      if (route !== undefined) attributes['http.route'] = route;
      s = {
        kind, resource, attributes, startNs: nowNs, lastUpdateMs: 0, count: 0, sum: 0, min: Infinity, max: -Infinity,
        buckets: new Array<number>(DURATION_BUCKETS.length + 1).fill(0),
      };
      byStatus.set(status, s);
      this.count++;
    }
    s.lastUpdateMs = nowMs;
    s.count++;
    s.sum += seconds;
    if (seconds < s.min) s.min = seconds;
    if (seconds > s.max) s.max = seconds;
    let i = 0;
    while (i < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[i]!) i++;
    s.buckets[i]!++;
    return true;
  }

  /** One histogram metric per (kind, resource), with a point per attribute set; idle series are forgotten. */
  collect(nowNs: bigint): HistogramMetric[] {
    const out: HistogramMetric[] = [];
    const nowMs = Date.now();
    for (const [gkey, g] of this.groups) {
      const m: HistogramMetric = {
        type: 'histogram', name: METRIC_NAME[g.kind], description: DESCRIPTION[g.kind], unit: 's',
        temporality: 'cumulative', resource: g.resource, scope: HTTP_SCOPE, points: [],
      };
      for (const [route, byMethod] of g.byRoute) {
        for (const [method, byStatus] of byMethod) {
          for (const [status, s] of byStatus) {
            if (nowMs - s.lastUpdateMs > this.idleMs) {
              byStatus.delete(status);
              this.count--;
              continue;
            }
            const p: HistogramPoint = {
              attributes: s.attributes, startTimeUnixNano: s.startNs, timeUnixNano: nowNs, count: s.count, sum: s.sum,
              min: s.min, max: s.max, explicitBounds: DURATION_BUCKETS, bucketCounts: [...s.buckets],
            };
            m.points.push(p);
          }
          if (byStatus.size === 0) byMethod.delete(method);
        }
        if (byMethod.size === 0) g.byRoute.delete(route);
      }
      if (g.byRoute.size === 0) this.groups.delete(gkey);
      else out.push(m);
    }
    return out;
  }
}

/** Resources are rebuilt by discovery; series follow the process (service, pid, container), not the object. */
function resourceId(r: Resource): string {
  const a = r.attributes;
  return `${String(a['service.name'] ?? '')}|${String(a['process.pid'] ?? '')}|${String(a['container.id'] ?? '')}`;
}

