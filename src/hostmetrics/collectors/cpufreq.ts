// cpufreq: /sys/devices/system/cpu/cpu*/cpufreq (kHz → Hz). Absent on most VMs: then no series, success.
import { readdir, readFile } from 'node:fs/promises';
import { family, NoDataError, type Collector, type Family } from '../family.js';

const FILES: Array<[string, string, string]> = [
  ['cpuinfo_cur_freq', 'node_cpu_frequency_hertz', 'Current cpu thread frequency in hertz.'],
  ['cpuinfo_max_freq', 'node_cpu_frequency_max_hertz', 'Maximum cpu thread frequency in hertz.'],
  ['cpuinfo_min_freq', 'node_cpu_frequency_min_hertz', 'Minimum cpu thread frequency in hertz.'],
  ['scaling_cur_freq', 'node_cpu_scaling_frequency_hertz', 'Current scaled CPU thread frequency in hertz.'],
  ['scaling_max_freq', 'node_cpu_scaling_frequency_max_hertz', 'Maximum scaled CPU thread frequency in hertz.'],
  ['scaling_min_freq', 'node_cpu_scaling_frequency_min_hertz', 'Minimum scaled CPU thread frequency in hertz.'],
];

export function cpufreqCollector(): Collector {
  return {
    name: 'cpufreq',
    async collect(env) {
      const base = `${env.sysRoot}/devices/system/cpu`;
      const cpus = (await readdir(base)).filter((d) => /^cpu\d+$/.test(d)).sort((a, b) => Number(a.slice(3)) - Number(b.slice(3)));
      const fams: Family[] = FILES.map(([, name, help]) => family(name, help, 'gauge'));
      let any = false;
      await Promise.all(cpus.map(async (dir) => {
        const values = await Promise.all(FILES.map(([file]) => readFile(`${base}/${dir}/cpufreq/${file}`, 'utf8').then(Number, () => NaN)));
        values.forEach((v, i) => {
          if (Number.isFinite(v)) {
            any = true;
            fams[i]!.samples.push({ labels: { cpu: dir.slice(3) }, value: v * 1000 });
          }
        });
      }));
      if (!any) throw new NoDataError('no cpufreq in sysfs');
      return fams.filter((f) => f.samples.length);
    },
  };
}
