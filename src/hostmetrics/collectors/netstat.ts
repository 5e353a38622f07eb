// netstat: /proc/net/netstat and /proc/net/snmp (header/value line pairs) and /proc/net/snmp6 ("Ip6InOctets 1"),
// filtered by the field regexp; node_netstat_<Proto>_<Field>, untyped as in node_exporter.
import { readFile } from 'node:fs/promises';
import { family, type Collector, type Family } from '../family.js';

export function parsePairedStats(text: string, into: Map<string, number>): void {
  const lines = text.split('\n');
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const names = lines[i]!.split(/\s+/);
    const values = lines[i + 1]!.split(/\s+/);
    const proto = names[0]!.replace(/:$/, '');
    if (!proto || values[0] !== names[0]) continue;
    for (let k = 1; k < names.length && k < values.length; k++) into.set(`${proto}_${names[k]}`, Number(values[k]));
  }
}

export function parseSnmp6(text: string, into: Map<string, number>): void {
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (!key || value === undefined) continue;
    const six = key.indexOf('6');
    if (six < 0) continue;
    into.set(`${key.slice(0, six + 1)}_${key.slice(six + 1)}`, Number(value));
  }
}

export function netstatCollector(): Collector {
  return {
    name: 'netstat',
    async collect(env) {
      const [netstat, snmp, snmp6] = await Promise.all(['netstat', 'snmp', 'snmp6'].map((f) => readFile(`${env.procRoot}/net/${f}`, 'utf8').catch(() => '')));
      if (!netstat && !snmp) throw new Error('neither /proc/net/netstat nor /proc/net/snmp is readable');
      const stats = new Map<string, number>();
      parsePairedStats(netstat!, stats);
      parsePairedStats(snmp!, stats);
      parseSnmp6(snmp6!, stats);
      const out: Family[] = [];
      for (const [key, value] of stats) {
        if (!env.settings.netstatFields.test(key) || !Number.isFinite(value)) continue;
        out.push(family(`node_netstat_${key}`, `Statistic ${key.replace('_', '')}.`, 'untyped', [{ labels: {}, value }]));
      }
      return out;
    },
  };
}
