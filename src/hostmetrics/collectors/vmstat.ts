// vmstat: /proc/vmstat fields matching the field regexp; untyped as in node_exporter.
import { readFile } from 'node:fs/promises';
import { family, type Collector, type Family } from '../family.js';

export function vmstatCollector(): Collector {
  return {
    name: 'vmstat',
    async collect(env) {
      const text = await readFile(`${env.procRoot}/vmstat`, 'utf8');
      const out: Family[] = [];
      for (const line of text.split('\n')) {
        const [key, value] = line.split(' ');
        if (!key || value === undefined || !env.settings.vmstatFields.test(key)) continue;
        const v = Number(value);
        if (Number.isFinite(v)) out.push(family(`node_vmstat_${key}`, `/proc/vmstat information field ${key}.`, 'untyped', [{ labels: {}, value: v }]));
      }
      return out;
    },
  };
}
