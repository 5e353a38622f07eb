// A cheap estimate of an item's memory footprint, for the byte bound of the in-memory queues.
// One function per signal (sizerFor), so the queue's hot loop calls a monomorphic function instead of
// switching on the signal for every item.
import type { Attributes } from '../model/attributes.js';
import type { LogRecord } from '../model/log.js';
import type { Metric } from '../model/metric.js';
import type { Profile } from '../model/profile.js';
import type { Span } from '../model/span.js';
import type { SignalItem, SignalType } from '../model/signals.js';

function attrBytes(a: Attributes): number {
  let n = 0;
  for (const k in a) {
    const v = a[k];
    n += 48 + k.length * 2 + (typeof v === 'string' ? v.length * 2 : Array.isArray(v) ? v.length * 16 : 8);
  }
  return n;
}

const spanBytes = (s: Span): number => 320 + s.name.length * 2 + attrBytes(s.attributes);
const logBytes = (l: LogRecord): number => 256 + l.body.length * 2 + attrBytes(l.attributes);
const profileBytes = (p: Profile): number => 256 + p.pprof.length;
function metricBytes(m: Metric): number {
  let n = 256 + m.name.length * 2 + m.description.length * 2;
  for (const p of m.points) n += 96 + attrBytes(p.attributes) + ('bucketCounts' in p ? p.bucketCounts.length * 16 : 0);
  return n;
}

const SIZERS: { [S in SignalType]: (item: SignalItem[S]) => number } = { traces: spanBytes, metrics: metricBytes, logs: logBytes, profiles: profileBytes };

/** The size estimate of one signal's items. */
export function sizerFor<S extends SignalType>(signal: S): (item: SignalItem[S]) => number {
  return SIZERS[signal];
}

export function itemBytes<S extends SignalType>(signal: S, item: SignalItem[S]): number {
  return SIZERS[signal](item);
}
