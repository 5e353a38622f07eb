// Prometheus remote write 1.0: metrics → WriteRequest (prompb) protobuf, snappy block-compressed.
// Naming follows the OTel → Prometheus conventions: invalid characters become "_", monotonic sums get "_total",
// histograms become _bucket{le}/_sum/_count; job = service.name, instance = host.name (or service.instance.id).
import { createRequire } from 'node:module';
import type Snappy from 'snappyjs';
import type { AttributeValue, Attributes } from '../../model/attributes.js';
import type { Metric } from '../../model/metric.js';
import { ProtoWriter } from '../proto/writer.js';

type Labels = Array<[string, string]>;

const sanitizeName = (n: string): string => n.replace(/[^a-zA-Z0-9_:]/g, '_').replace(/^(\d)/, '_$1');
const sanitizeLabel = (n: string): string => n.replace(/[^a-zA-Z0-9_]/g, '_').replace(/^(\d)/, '_$1');
const str = (v: AttributeValue): string => (Array.isArray(v) ? JSON.stringify(v) : String(v));

function baseLabels(resource: Attributes, attrs: Attributes): Map<string, string> {
  const out = new Map<string, string>();
  const job = resource['service.name'];
  const instance = resource['service.instance.id'] ?? resource['host.name'];
  if (job !== undefined) out.set('job', str(job));
  if (instance !== undefined) out.set('instance', str(instance));
  for (const [k, v] of Object.entries(attrs)) out.set(sanitizeLabel(k), str(v));
  return out;
}

function series(w: ProtoWriter, name: string, labels: Map<string, string>, extra: Labels, value: number, tsMs: number): void {
  const all: Labels = [['__name__', name], ...labels, ...extra];
  all.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const ts = w.begin(1);
  for (const [k, v] of all) {
    const l = w.begin(1);
    w.string(1, k);
    w.string(2, v);
    w.end(l);
  }
  const s = w.begin(2);
  w.double(1, value);
  w.int64(2, tsMs);
  w.end(s);
  w.end(ts);
}

/** Uncompressed WriteRequest bytes and the number of samples in it. */
export function encodeWriteRequest(metrics: readonly Metric[]): { body: Buffer; samples: number } {
  const w = new ProtoWriter(16 * 1024);
  let samples = 0;
  for (const m of metrics) {
    let name = sanitizeName(m.name);
    for (const p of m.points) {
      const labels = baseLabels(m.resource.attributes, p.attributes);
      const tsMs = Number(p.timeUnixNano / 1_000_000n);
      if (m.type === 'histogram') {
        const hp = p as Extract<Metric, { type: 'histogram' }>['points'][number];
        let cum = 0;
        hp.bucketCounts.forEach((c, i) => {
          cum += c;
          const le = i < hp.explicitBounds.length ? String(hp.explicitBounds[i]) : '+Inf';
          series(w, `${name}_bucket`, labels, [['le', le]], cum, tsMs);
        });
        series(w, `${name}_sum`, labels, [], hp.sum, tsMs);
        series(w, `${name}_count`, labels, [], hp.count, tsMs);
        samples += hp.bucketCounts.length + 2;
      } else {
        if (m.type === 'sum' && m.monotonic && !name.endsWith('_total')) name = `${name}_total`;
        series(w, name, labels, [], (p as { value: number }).value, tsMs);
        samples++;
      }
    }
  }
  return { body: w.finish(), samples };
}

/** snappyjs is loaded by the first compression: an agent without remote write (the default) never loads it. */
let snappyModule: typeof Snappy | undefined;
const snappy = (): typeof Snappy => (snappyModule ??= createRequire(import.meta.url)('snappyjs') as typeof Snappy);

export function compressWriteRequest(body: Buffer): Buffer {
  return Buffer.from(snappy().compress(body));
}
