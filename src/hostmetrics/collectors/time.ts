// time: wall clock, time zone offset and clock sources.
import { readdir, readFile } from 'node:fs/promises';
import { family, type Collector } from '../family.js';

/** Built once: constructing an Intl.DateTimeFormat loads ICU zone data, ~6 ms per scrape (measured). */
let zoneFormat: Intl.DateTimeFormat | undefined;

/** The zone abbreviation Go prints (e.g. "UTC", "CET"); Intl gives "GMT+1" where the tz database has none for en-US. */
function zoneName(d: Date): string {
  zoneFormat ??= new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' });
  const part = zoneFormat.formatToParts(d).find((p) => p.type === 'timeZoneName');
  return part?.value ?? 'UTC';
}

export function timeCollector(): Collector {
  return {
    name: 'time',
    async collect(env) {
      const now = new Date();
      const seconds = family('node_time_seconds', 'System time in seconds since epoch (1970).', 'gauge', [{ labels: {}, value: now.getTime() / 1000 }]);
      const offset = family('node_time_zone_offset_seconds', 'System time zone offset in seconds.', 'gauge', [{ labels: { time_zone: zoneName(now) }, value: -now.getTimezoneOffset() * 60 }]);
      const available = family('node_time_clocksource_available_info', "Available clocksources read from '/sys/devices/system/clocksource'.", 'gauge');
      const current = family('node_time_clocksource_current_info', "Current clocksource read from '/sys/devices/system/clocksource'.", 'gauge');
      const base = `${env.sysRoot}/devices/system/clocksource`;
      const dirs = (await readdir(base).catch(() => [] as string[])).filter((d) => /^clocksource\d+$/.test(d));
      for (const dir of dirs) {
        const device = dir.slice('clocksource'.length);
        const [avail, cur] = await Promise.all([
          readFile(`${base}/${dir}/available_clocksource`, 'utf8').catch(() => ''),
          readFile(`${base}/${dir}/current_clocksource`, 'utf8').catch(() => ''),
        ]);
        for (const cs of avail.trim().split(/\s+/).filter(Boolean)) available.samples.push({ labels: { clocksource: cs, device }, value: 1 });
        if (cur.trim()) current.samples.push({ labels: { clocksource: cur.trim(), device }, value: 1 });
      }
      return [seconds, offset, ...[available, current].filter((f) => f.samples.length)];
    },
  };
}
