// meminfo: every /proc/meminfo field as node_memory_<Field>[_bytes] ("Active(anon)" → "Active_anon").
import { readFile } from 'node:fs/promises';
import { family, type Collector } from '../family.js';

export function parseMeminfo(text: string): Array<{ name: string; value: number }> {
  const out: Array<{ name: string; value: number }> = [];
  for (const line of text.split('\n')) {
    const m = /^([^:]+):\s+(\d+)(\s+kB)?\s*$/.exec(line);
    if (!m) continue;
    const key = m[1]!.replace('(', '_').replace(')', '');
    out.push(m[3] ? { name: `${key}_bytes`, value: Number(m[2]) * 1024 } : { name: key, value: Number(m[2]) });
  }
  return out;
}

export function meminfoCollector(): Collector {
  return {
    name: 'meminfo',
    async collect(env) {
      const text = await readFile(`${env.procRoot}/meminfo`, 'utf8');
      return parseMeminfo(text).map(({ name, value }) =>
        family(`node_memory_${name}`, `Memory information field ${name}.`, 'gauge', [{ labels: {}, value }]));
    },
  };
}
