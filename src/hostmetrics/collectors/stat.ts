// stat: the non-CPU lines of /proc/stat.
import { readFile } from 'node:fs/promises';
import { family, type Collector, type Family } from '../family.js';

const LINES: Array<[string, string, string, 'counter' | 'gauge']> = [
  ['intr', 'node_intr_total', 'Total number of interrupts serviced.', 'counter'],
  ['ctxt', 'node_context_switches_total', 'Total number of context switches.', 'counter'],
  ['processes', 'node_forks_total', 'Total number of forks.', 'counter'],
  ['btime', 'node_boot_time_seconds', 'Node boot time, in unixtime.', 'gauge'],
  ['procs_running', 'node_procs_running', 'Number of processes in runnable state.', 'gauge'],
  ['procs_blocked', 'node_procs_blocked', 'Number of processes blocked waiting for I/O to complete.', 'gauge'],
];

export function statCollector(): Collector {
  return {
    name: 'stat',
    async collect(env) {
      const text = await readFile(`${env.procRoot}/stat`, 'utf8');
      const values = new Map<string, number>();
      for (const line of text.split('\n')) {
        const sp = line.indexOf(' ');
        if (sp < 0) continue;
        const key = line.slice(0, sp);
        // intr's first number is the total; the per-IRQ counts after it are not exposed by default.
        const rest = line.slice(sp + 1).trimStart();
        const end = rest.indexOf(' ');
        values.set(key, Number(end < 0 ? rest : rest.slice(0, end)));
      }
      const out: Family[] = [];
      for (const [key, name, help, type] of LINES) {
        const v = values.get(key);
        if (v !== undefined && Number.isFinite(v)) out.push(family(name, help, type, [{ labels: {}, value: v }]));
      }
      return out;
    },
  };
}
