// host_metrics configuration compiled once (regexps built, durations parsed) so a scrape does no parsing.
import type { TelegenConfig } from '../config/schema.js';
import { parseDuration } from '../config/types.js';

export const ALL_COLLECTORS = ['cpu', 'cpufreq', 'meminfo', 'diskstats', 'filesystem', 'netdev', 'netstat', 'loadavg', 'stat', 'vmstat', 'pressure', 'uname', 'time'] as const;
export type CollectorName = (typeof ALL_COLLECTORS)[number];

export interface HostMetricsConfig {
  enabledCollectors: CollectorName[];
  intervalMs: number;
  prometheusListen: string;
  mountPointsExclude: RegExp | null;
  mountPointsInclude: RegExp | null;
  fsTypesExclude: RegExp | null;
  statfsTimeoutMs: number;
  netdevExclude: RegExp | null;
  netdevInclude: RegExp | null;
  diskExclude: RegExp | null;
  diskInclude: RegExp | null;
  netstatFields: RegExp;
  vmstatFields: RegExp;
}

const re = (s: string): RegExp | null => (s ? new RegExp(s) : null);

export function compileSettings(config: TelegenConfig): HostMetricsConfig {
  const hm = config.agent.host_metrics;
  const known = new Set<string>(ALL_COLLECTORS);
  for (const c of [...hm.collectors.enabled, ...hm.collectors.disabled]) {
    if (!known.has(c)) throw new Error(`agent.host_metrics.collectors: unknown collector "${c}" (known: ${ALL_COLLECTORS.join(', ')})`);
  }
  const wanted = hm.collectors.enabled.length ? new Set(hm.collectors.enabled) : known;
  return {
    enabledCollectors: ALL_COLLECTORS.filter((c) => wanted.has(c) && !hm.collectors.disabled.includes(c)),
    intervalMs: parseDuration(hm.interval),
    prometheusListen: hm.prometheus.listen,
    mountPointsExclude: re(hm.filesystem.mount_points_exclude),
    mountPointsInclude: re(hm.filesystem.mount_points_include),
    fsTypesExclude: re(hm.filesystem.fs_types_exclude),
    statfsTimeoutMs: parseDuration(hm.filesystem.statfs_timeout),
    netdevExclude: re(hm.netdev.device_exclude),
    netdevInclude: re(hm.netdev.device_include),
    diskExclude: re(hm.diskstats.device_exclude),
    diskInclude: re(hm.diskstats.device_include),
    netstatFields: new RegExp(hm.netstat.fields),
    vmstatFields: new RegExp(hm.vmstat.fields),
  };
}

/** include (when set) must match and exclude (when set) must not. */
export function accepted(name: string, include: RegExp | null, exclude: RegExp | null): boolean {
  return (!include || include.test(name)) && !(exclude && exclude.test(name));
}
