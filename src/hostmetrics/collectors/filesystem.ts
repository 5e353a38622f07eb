// filesystem: statfs of every mount in /proc/1/mounts that passes the mount-point and fs-type filters.
// statfs on a hung NFS mount blocks forever: each call races a timeout, and a mount whose call is still
// pending is not asked again (it is reported with node_filesystem_device_error 1) until that call returns —
// so at most one libuv thread per hung mount is ever tied up and a scrape never waits longer than the timeout.
import { readFile, statfs } from 'node:fs/promises';
import type { StatsFs } from 'node:fs';
import { accepted } from '../settings.js';
import { family, type Collector } from '../family.js';

export type StatfsFn = (path: string) => Promise<Pick<StatsFs, 'bsize' | 'blocks' | 'bfree' | 'bavail' | 'files' | 'ffree'>>;

export interface MountEntry { device: string; mountpoint: string; fstype: string; options: string[] }

/** /proc/mounts escapes space, tab, newline and backslash as \ooo octal. */
const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

export function parseMounts(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length < 4) continue;
    out.push({ device: unescape(f[0]!), mountpoint: unescape(f[1]!), fstype: f[2]!, options: f[3]!.split(',') });
  }
  return out;
}

export function filesystemCollector(statfsFn: StatfsFn = (p) => statfs(p)): Collector {
  const stuck = new Set<string>();
  return {
    name: 'filesystem',
    async collect(env) {
      const s = env.settings;
      const text = await readFile(`${env.procRoot}/1/mounts`, 'utf8').catch(() => readFile(`${env.procRoot}/mounts`, 'utf8'));
      const seen = new Set<string>();
      const mounts = parseMounts(text).filter((m) => {
        const key = `${m.device}\0${m.mountpoint}\0${m.fstype}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return accepted(m.mountpoint, s.mountPointsInclude, s.mountPointsExclude) && !(s.fsTypesExclude && s.fsTypesExclude.test(m.fstype));
      });
      const names = ['size_bytes', 'free_bytes', 'avail_bytes', 'files', 'files_free', 'readonly', 'device_error'] as const;
      const helps = ['Filesystem size in bytes.', 'Filesystem free space in bytes.', 'Filesystem space available to non-root users in bytes.',
        'Filesystem total file nodes.', 'Filesystem total free file nodes.', 'Filesystem read-only status.',
        'Whether an error occurred while getting statistics for the given device.'];
      const fams = names.map((n, i) => family(`node_filesystem_${n}`, helps[i]!, 'gauge'));
      const results = await Promise.all(mounts.map(async (m) => {
        if (stuck.has(m.mountpoint)) return { m, st: undefined };
        let timer: NodeJS.Timeout | undefined;
        const call = statfsFn(m.mountpoint);
        stuck.add(m.mountpoint);
        void call.then(() => stuck.delete(m.mountpoint), () => stuck.delete(m.mountpoint));
        const timeout = new Promise<undefined>((resolve) => { timer = setTimeout(resolve, s.statfsTimeoutMs, undefined); });
        try {
          return { m, st: await Promise.race([call, timeout]) };
        } catch {
          return { m, st: undefined };
        } finally {
          clearTimeout(timer);
        }
      }));
      for (const { m, st } of results) {
        const labels = { device: m.device, fstype: m.fstype, mountpoint: m.mountpoint };
        const ro = m.options.includes('ro') ? 1 : 0;
        if (!st) {
          fams[6]!.samples.push({ labels, value: 1 });
          continue;
        }
        const values = [st.blocks * st.bsize, st.bfree * st.bsize, st.bavail * st.bsize, st.files, st.ffree, ro, 0];
        values.forEach((v, i) => fams[i]!.samples.push({ labels, value: Number(v) }));
      }
      return fams;
    },
  };
}
