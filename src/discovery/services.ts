// Processes grouped into services for /status/discovery: one entry per (namespace, name).
import type { ProcessInfo } from './catalog.js';

export interface DiscoveredService {
  name: string;
  namespace: string;
  instances: number;
  ports: number[];
}

export function groupServices(processes: Iterable<ProcessInfo>, nameOf: (p: ProcessInfo) => string): DiscoveredService[] {
  const byKey = new Map<string, { name: string; namespace: string; instances: number; ports: Set<number> }>();
  for (const p of processes) {
    const name = nameOf(p);
    const key = `${p.serviceNamespace}\0${name}`;
    let s = byKey.get(key);
    if (!s) byKey.set(key, (s = { name, namespace: p.serviceNamespace, instances: 0, ports: new Set() }));
    s.instances++;
    for (const { port } of p.ports) s.ports.add(port);
  }
  return [...byKey.values()]
    .map((s) => ({ name: s.name, namespace: s.namespace, instances: s.instances, ports: [...s.ports].sort((a, b) => a - b) }))
    .sort((a, b) => byCodeUnits(a.namespace, b.namespace) || byCodeUnits(a.name, b.name));
}

/** Plain string order: localeCompare would page in ICU collation data (~3 MB resident) for a status listing. */
function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
