// time: wall clock, time zone offset and clock sources.
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { family, type Collector } from '../family.js';

/** Built at most once: an Intl.DateTimeFormat costs ~6 ms to build and ~8 MB of resident ICU data (measured). */
let zoneFormat: Intl.DateTimeFormat | undefined;

/**
 * The zone abbreviation Go prints (e.g. "UTC", "CET"), which Go takes from the tz file: here from the POSIX TZ
 * rule at the end of the same TZif file (or TZ itself), so no ICU data is paged in. Intl (which says "GMT+1"
 * where the tz database has no English name) only when there is no readable rule.
 */
function zoneName(d: Date): string {
  const rule = posixRule();
  const name = rule ? zoneFromRule(rule, -d.getTimezoneOffset() * 60) : undefined;
  if (name) return name;
  zoneFormat ??= new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' });
  const part = zoneFormat.formatToParts(d).find((p) => p.type === 'timeZoneName');
  return part?.value ?? 'UTC';
}

/** The POSIX TZ rule in force: the footer line of the TZif file TZ names (or /etc/localtime), or TZ itself. */
function posixRule(): string | undefined {
  const tz = process.env.TZ;
  let path = '/etc/localtime';
  if (tz) {
    const name = tz.startsWith(':') ? tz.slice(1) : tz;
    path = name.startsWith('/') ? name : `/usr/share/zoneinfo/${name}`;
  }
  let text: string | undefined;
  try {
    text = readFileSync(path, 'latin1');
  } catch {
    return tz && /\d/.test(tz) ? tz : tz ? undefined : 'UTC0'; // no file: TZ may be a rule; no TZ and no file: UTC
  }
  if (!text.startsWith('TZif') || !text.endsWith('\n')) return undefined;
  const start = text.lastIndexOf('\n', text.length - 2);
  return start >= 0 ? text.slice(start + 1, -1) : undefined;
}

/** std or dst abbreviation of a POSIX rule ("CET-1CEST,M3.5.0,M10.5.0/3", "UTC0", "<+03>-3") for an offset. */
export function zoneFromRule(rule: string, offsetSeconds: number): string | undefined {
  const m = /^(<[^>]+>|[A-Za-z]{3,})([+-]?\d{1,2})(?::(\d{2}))?(?::\d{2})?(<[^>]+>|[A-Za-z]{3,})?/.exec(rule);
  if (!m) return undefined;
  const unquote = (n: string): string => n.replace(/^<|>$/g, '');
  const sign = m[2]!.startsWith('-') ? -1 : 1;
  // POSIX offsets are hours WEST of UTC: "CET-1" is UTC+1.
  const stdOffset = -sign * (Math.abs(Number(m[2])) * 3600 + Number(m[3] ?? 0) * 60);
  if (offsetSeconds === stdOffset || !m[4]) return unquote(m[1]!);
  return unquote(m[4]);
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
