// diskstats: /proc/diskstats (sectors are always 512 bytes there; times are ms) plus node_disk_info with the
// udev properties node_exporter reads from /run/udev/data (empty strings when udev is absent, as here).
import { readFile } from 'node:fs/promises';
import { accepted } from '../settings.js';
import { family, type Collector, type Family } from '../family.js';

const SECTOR = 512;
/** [field index after the device name (0-based), name, help, type, scale] */
const FIELDS: Array<[number, string, string, 'counter' | 'gauge', number]> = [
  [0, 'node_disk_reads_completed_total', 'The total number of reads completed successfully.', 'counter', 1],
  [1, 'node_disk_reads_merged_total', 'The total number of reads merged.', 'counter', 1],
  [2, 'node_disk_read_bytes_total', 'The total number of bytes read successfully.', 'counter', SECTOR],
  [3, 'node_disk_read_time_seconds_total', 'The total number of seconds spent by all reads.', 'counter', 0.001],
  [4, 'node_disk_writes_completed_total', 'The total number of writes completed successfully.', 'counter', 1],
  [5, 'node_disk_writes_merged_total', 'The number of writes merged.', 'counter', 1],
  [6, 'node_disk_written_bytes_total', 'The total number of bytes written successfully.', 'counter', SECTOR],
  [7, 'node_disk_write_time_seconds_total', 'This is the total number of seconds spent by all writes.', 'counter', 0.001],
  [8, 'node_disk_io_now', 'The number of I/Os currently in progress.', 'gauge', 1],
  [9, 'node_disk_io_time_seconds_total', 'Total seconds spent doing I/Os.', 'counter', 0.001],
  [10, 'node_disk_io_time_weighted_seconds_total', 'The weighted # of seconds spent doing I/Os.', 'counter', 0.001],
  [11, 'node_disk_discards_completed_total', 'The total number of discards completed successfully.', 'counter', 1],
  [12, 'node_disk_discards_merged_total', 'The total number of discards merged.', 'counter', 1],
  [13, 'node_disk_discarded_sectors_total', 'The total number of sectors discarded successfully.', 'counter', 1],
  [14, 'node_disk_discard_time_seconds_total', 'This is the total number of seconds spent by all discards.', 'counter', 0.001],
  [15, 'node_disk_flush_requests_total', 'The total number of flush requests completed successfully', 'counter', 1],
  [16, 'node_disk_flush_requests_time_seconds_total', 'This is the total number of seconds spent by all flush requests.', 'counter', 0.001],
];

async function udevProps(root: string, major: string, minor: string): Promise<Record<string, string>> {
  const props: Record<string, string> = {};
  const text = await readFile(`${root}/b${major}:${minor}`, 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    if (!line.startsWith('E:')) continue;
    const eq = line.indexOf('=');
    if (eq > 2) props[line.slice(2, eq)] = line.slice(eq + 1);
  }
  return props;
}

export function diskstatsCollector(): Collector {
  return {
    name: 'diskstats',
    async collect(env) {
      const text = await readFile(`${env.procRoot}/diskstats`, 'utf8');
      const fams: Family[] = FIELDS.map(([, name, help, type]) => family(name, help, type));
      const info = family('node_disk_info', 'Info of /sys/block/<block_device>.', 'gauge');
      for (const line of text.split('\n')) {
        const f = line.trim().split(/\s+/);
        if (f.length < 14) continue;
        const [major, minor, device] = [f[0]!, f[1]!, f[2]!];
        if (!accepted(device, env.settings.diskInclude, env.settings.diskExclude)) continue;
        const stats = f.slice(3).map(Number);
        FIELDS.forEach(([i, , , , scale], k) => {
          if (i < stats.length) fams[k]!.samples.push({ labels: { device }, value: stats[i]! * scale });
        });
        const u = await udevProps(env.udevDataRoot, major, minor);
        info.samples.push({
          labels: { device, major, minor, model: u.ID_MODEL ?? '', path: u.ID_PATH ?? '', revision: u.ID_REVISION ?? '', serial: u.ID_SERIAL_SHORT ?? '', wwn: u.ID_WWN ?? '' },
          value: 1,
        });
      }
      return [...fams.filter((f) => f.samples.length), info];
    },
  };
}
