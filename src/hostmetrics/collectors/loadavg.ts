// loadavg: /proc/loadavg.
import { readFile } from 'node:fs/promises';
import { family, type Collector } from '../family.js';

export function loadavgCollector(): Collector {
  return {
    name: 'loadavg',
    async collect(env) {
      const f = (await readFile(`${env.procRoot}/loadavg`, 'utf8')).trim().split(/\s+/).map(Number);
      if (f.length < 3 || f.slice(0, 3).some((v) => !Number.isFinite(v))) throw new Error('malformed /proc/loadavg');
      return ([['1', 0], ['5', 1], ['15', 2]] as const).map(([m, i]) =>
        family(`node_load${m}`, `${m}m load average.`, 'gauge', [{ labels: {}, value: f[i]! }]));
    },
  };
}
