// cpu: /proc/stat per-CPU times (USER_HZ ticks → seconds), as node_exporter's cpu collector.
import { readFile } from 'node:fs/promises';
import { family, type Collector } from '../family.js';
import { forEachCpuLine } from '../../util/proc-stat-cpus.js';

const USER_HZ = 100;
const MODES = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;

export function cpuCollector(): Collector {
  // node_exporter keeps the previous idle/iowait when the kernel reports them going backwards (a known
  // kernel quirk with NOHZ) so counters never decrease; we do the same.
  const last = new Map<string, { idle: number; iowait: number }>();
  return {
    name: 'cpu',
    async collect(env) {
      const text = await readFile(`${env.procRoot}/stat`, 'utf8');
      const seconds = family('node_cpu_seconds_total', 'Seconds the CPUs spent in each mode.', 'counter');
      const guest = family('node_cpu_guest_seconds_total', 'Seconds the CPUs spent in guests (VMs) for each mode.', 'counter');
      forEachCpuLine(text, (n, ticks) => {
        const cpu = String(n);
        const v = ticks.map((x) => x / USER_HZ);
        const prev = last.get(cpu);
        if (prev) {
          v[3] = Math.max(v[3]!, prev.idle);
          v[4] = Math.max(v[4]!, prev.iowait);
        }
        last.set(cpu, { idle: v[3]!, iowait: v[4]! });
        MODES.forEach((mode, i) => seconds.samples.push({ labels: { cpu, mode }, value: v[i] ?? 0 }));
        guest.samples.push({ labels: { cpu, mode: 'user' }, value: v[8] ?? 0 }, { labels: { cpu, mode: 'nice' }, value: v[9] ?? 0 });
      });
      return [seconds, guest];
    },
  };
}
