// A cheap estimate of an item's memory footprint, for the byte bound of the in-memory queues.
import type { Attributes } from '../model/attributes.js';
import type { SignalItem, SignalType } from '../model/signals.js';

function attrBytes(a: Attributes): number {
  let n = 0;
  for (const k in a) {
    const v = a[k];
    n += 48 + k.length * 2 + (typeof v === 'string' ? v.length * 2 : Array.isArray(v) ? v.length * 16 : 8);
  }
  return n;
}

export function itemBytes<S extends SignalType>(signal: S, item: SignalItem[S]): number {
  switch (signal) {
    case 'traces': { const s = item as SignalItem['traces']; return 320 + s.name.length * 2 + attrBytes(s.attributes); }
    case 'logs': { const l = item as SignalItem['logs']; return 256 + l.body.length * 2 + attrBytes(l.attributes); }
    case 'metrics': {
      const m = item as SignalItem['metrics'];
      let n = 256 + m.name.length * 2 + m.description.length * 2;
      for (const p of m.points) n += 96 + attrBytes(p.attributes) + ('bucketCounts' in p ? p.bucketCounts.length * 16 : 0);
      return n;
    }
    default: return 256 + (item as SignalItem['profiles']).pprof.length;
  }
}
