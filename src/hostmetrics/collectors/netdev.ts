// netdev: /proc/net/dev counters per interface, plus rx_nohandler from sysfs (node_exporter 1.5 reads it
// through netlink). Names: node_network_{receive,transmit}_<field>_total.
import { readFile } from 'node:fs/promises';
import { accepted } from '../settings.js';
import { family, type Collector, type Family } from '../family.js';

const RX = ['bytes', 'packets', 'errs', 'drop', 'fifo', 'frame', 'compressed', 'multicast'];
const TX = ['bytes', 'packets', 'errs', 'drop', 'fifo', 'colls', 'carrier', 'compressed'];

export function netdevCollector(): Collector {
  return {
    name: 'netdev',
    async collect(env) {
      const text = await readFile(`${env.procRoot}/net/dev`, 'utf8');
      const fams = new Map<string, Family>();
      const add = (stat: string, device: string, value: number): void => {
        let f = fams.get(stat);
        if (!f) fams.set(stat, (f = family(`node_network_${stat}_total`, `Network device statistic ${stat}.`, 'counter')));
        f.samples.push({ labels: { device }, value });
      };
      const devices: string[] = [];
      for (const line of text.split('\n').slice(2)) {
        const colon = line.indexOf(':');
        if (colon < 0) continue;
        const device = line.slice(0, colon).trim();
        if (!accepted(device, env.settings.netdevInclude, env.settings.netdevExclude)) continue;
        const v = line.slice(colon + 1).trim().split(/\s+/).map(Number);
        if (v.length < 16) continue;
        devices.push(device);
        RX.forEach((n, i) => add(`receive_${n}`, device, v[i]!));
        TX.forEach((n, i) => add(`transmit_${n}`, device, v[8 + i]!));
      }
      const nohandler = await Promise.all(devices.map((d) => readFile(`${env.sysRoot}/class/net/${d}/statistics/rx_nohandler`, 'utf8').then(Number, () => NaN)));
      devices.forEach((d, i) => { if (Number.isFinite(nohandler[i])) add('receive_nohandler', d, nohandler[i]!); });
      return [...fams.values()];
    },
  };
}
