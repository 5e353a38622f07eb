// pressure: PSI totals from /proc/pressure/{cpu,io,memory} (microseconds → seconds). No PSI: no series.
import { readFile } from 'node:fs/promises';
import { family, NoDataError, type Collector, type Family } from '../family.js';

const DEFS: Array<[string, 'some' | 'full', string, string]> = [
  ['cpu', 'some', 'node_pressure_cpu_waiting_seconds_total', 'Total time in seconds that processes have waited for CPU time'],
  ['io', 'some', 'node_pressure_io_waiting_seconds_total', 'Total time in seconds that processes have waited due to IO congestion'],
  ['io', 'full', 'node_pressure_io_stalled_seconds_total', 'Total time in seconds no process could make progress due to IO congestion'],
  ['memory', 'some', 'node_pressure_memory_waiting_seconds_total', 'Total time in seconds that processes have waited for memory'],
  ['memory', 'full', 'node_pressure_memory_stalled_seconds_total', 'Total time in seconds no process could make progress due to memory congestion'],
];

export function parsePressure(text: string): Partial<Record<'some' | 'full', number>> {
  const out: Partial<Record<'some' | 'full', number>> = {};
  for (const line of text.split('\n')) {
    const m = /^(some|full) .*total=(\d+)/.exec(line);
    if (m) out[m[1] as 'some' | 'full'] = Number(m[2]) / 1e6;
  }
  return out;
}

export function pressureCollector(): Collector {
  return {
    name: 'pressure',
    async collect(env) {
      const files = await Promise.all(['cpu', 'io', 'memory'].map(async (r) => [r, await readFile(`${env.procRoot}/pressure/${r}`, 'utf8').catch(() => undefined)] as const));
      const parsed = new Map(files.filter(([, t]) => t !== undefined).map(([r, t]) => [r, parsePressure(t!)]));
      if (parsed.size === 0) throw new NoDataError('PSI not available (/proc/pressure missing)');
      const out: Family[] = [];
      for (const [resource, kind, name, help] of DEFS) {
        const v = parsed.get(resource)?.[kind];
        if (v !== undefined) out.push(family(name, help, 'counter', [{ labels: {}, value: v }]));
      }
      return out;
    },
  };
}
