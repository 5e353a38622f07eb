// Every collector by name (one factory each; each instance keeps its own small state, e.g. cpu's last idle).
import type { Collector } from '../family.js';
import type { CollectorName } from '../settings.js';
import { cpuCollector } from './cpu.js';
import { cpufreqCollector } from './cpufreq.js';
import { diskstatsCollector } from './diskstats.js';
import { filesystemCollector, type StatfsFn } from './filesystem.js';
import { loadavgCollector } from './loadavg.js';
import { meminfoCollector } from './meminfo.js';
import { netdevCollector } from './netdev.js';
import { netstatCollector } from './netstat.js';
import { pressureCollector } from './pressure.js';
import { statCollector } from './stat.js';
import { timeCollector } from './time.js';
import { unameCollector } from './uname.js';
import { vmstatCollector } from './vmstat.js';

export function createCollectors(names: readonly CollectorName[], opts: { statfs?: StatfsFn } = {}): Collector[] {
  const factories: Record<CollectorName, () => Collector> = {
    cpu: cpuCollector, cpufreq: cpufreqCollector, meminfo: meminfoCollector, diskstats: diskstatsCollector,
    filesystem: () => filesystemCollector(opts.statfs), netdev: netdevCollector, netstat: netstatCollector,
    loadavg: loadavgCollector, stat: statCollector, vmstat: vmstatCollector, pressure: pressureCollector,
    uname: unameCollector, time: timeCollector,
  };
  return names.map((n) => factories[n]());
}
