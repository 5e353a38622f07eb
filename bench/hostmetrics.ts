// Host metrics scrape time and CPU per scrape against prometheus-node-exporter 1.5 in the same run (same
// collectors, same filters; each server in its own process so /proc/<pid>/stat gives its CPU), and discovery
// scan time with 1,000 extra processes. `npm run bench:hostmetrics`.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { loadConfigText } from '../src/config/load.js';
import { createHostMetrics } from '../src/hostmetrics/hostmetrics.js';
import { ALL_COLLECTORS } from '../src/hostmetrics/settings.js';
import { ProcScanner } from '../src/discovery/scanner.js';
import { SelfMetrics } from '../src/telemetry/self-metrics.js';
import { writeBenchSection } from './lib/report.js';
import { freePort } from '../test/helpers/net.js';

const SCRAPES = 300;
const config = loadConfigText('agent:\n  host_metrics:\n    prometheus:\n      listen: "127.0.0.1:0"\n', null, { env: {} }).config;

function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, USER_HZ ticks
}

const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;

async function measure(url: string, pid: number): Promise<{ p50: number; p90: number; cpu: number; bytes: number }> {
  for (let i = 0; i < 20; i++) await (await fetch(url)).text();
  const times: number[] = [];
  let bytes = 0;
  const cpu0 = cpuMs(pid);
  for (let i = 0; i < SCRAPES; i++) {
    const t = performance.now();
    bytes = (await (await fetch(url)).text()).length;
    times.push(performance.now() - t);
  }
  return { p50: pct(times, 0.5), p90: pct(times, 0.9), cpu: (cpuMs(pid) - cpu0) / SCRAPES, bytes };
}

async function main(): Promise<void> {
  const children: ChildProcess[] = [];
  try {
    const hm = config.agent.host_metrics;
    const nePort = await freePort();
    const ne = spawn('/usr/bin/prometheus-node-exporter', [
      `--web.listen-address=127.0.0.1:${nePort}`, '--collector.disable-defaults', ...ALL_COLLECTORS.map((c) => `--collector.${c}`),
      `--collector.filesystem.mount-points-exclude=${hm.filesystem.mount_points_exclude}`,
      `--collector.filesystem.fs-types-exclude=${hm.filesystem.fs_types_exclude}`,
      `--collector.diskstats.device-exclude=${hm.diskstats.device_exclude}`, '--collector.netdev.device-exclude=',
    ], { stdio: 'ignore' });
    children.push(ne);
    const ours = spawn(process.execPath, ['--import', 'tsx', 'bench/hostmetrics.ts', '--serve'], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(ours);
    const oursPort = await new Promise<number>((resolve) => ours.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
    for (let i = 0; i < 100 && !(await fetch(`http://127.0.0.1:${nePort}/metrics`).then((r) => r.ok, () => false)); i++) await sleep(50);

    // Interleave the two so both see the same machine load.
    const a = await measure(`http://127.0.0.1:${oursPort}/metrics`, ours.pid!);
    const b = await measure(`http://127.0.0.1:${nePort}/metrics`, ne.pid!);
    const a2 = await measure(`http://127.0.0.1:${oursPort}/metrics`, ours.pid!);
    const b2 = await measure(`http://127.0.0.1:${nePort}/metrics`, ne.pid!);
    const o = { p50: (a.p50 + a2.p50) / 2, p90: (a.p90 + a2.p90) / 2, cpu: (a.cpu + a2.cpu) / 2, bytes: a.bytes };
    const n = { p50: (b.p50 + b2.p50) / 2, p90: (b.p90 + b2.p90) / 2, cpu: (b.cpu + b2.cpu) / 2, bytes: b.bytes };

    // Discovery with 1,000 sleeping processes on top of what runs already.
    const scanner = new ProcScanner({ procRoot: '/proc', passwdPath: '/etc/passwd', maxProcesses: 20000, concurrency: 16 });
    const base = await scanner.scan();
    const sleepers: ChildProcess[] = [];
    for (let i = 0; i < 1000; i++) sleepers.push(spawn('sleep', ['600'], { stdio: 'ignore' }));
    children.push(...sleepers);
    await sleep(500);
    const cold = await scanner.scan();
    const warm: number[] = [];
    for (let i = 0; i < 5; i++) warm.push((await scanner.scan()).durationMs);
    for (const s of sleepers) s.kill('SIGKILL');

    const md = `
Host metrics: ${SCRAPES}×2 scrapes of each endpoint (13 collectors, same filters), interleaved; each server in its own
process. CPU per scrape from /proc/<pid>/stat (10 ms tick resolution, so averaged over all scrapes). The machine is
shared with other engineers' work while this runs: figures are noisy.

| | Telegen | node_exporter 1.5 | ratio (Telegen / node_exporter) |
| --- | ---: | ---: | ---: |
| scrape time p50 | ${o.p50.toFixed(2)} ms | ${n.p50.toFixed(2)} ms | ${(o.p50 / n.p50).toFixed(2)} |
| scrape time p90 | ${o.p90.toFixed(2)} ms | ${n.p90.toFixed(2)} ms | ${(o.p90 / n.p90).toFixed(2)} |
| CPU per scrape | ${o.cpu.toFixed(2)} ms | ${n.cpu.toFixed(2)} ms | ${(o.cpu / n.cpu).toFixed(2)} |
| response size | ${o.bytes} B | ${n.bytes} B | |

Goal: scrape time ≤ node_exporter's (ratio ≤ 1).

Discovery scan of /proc (ports, runtime, cgroup, environment; concurrency 16):

| | processes | scan time |
| --- | ---: | ---: |
| before (this host) | ${base.processes.size} | ${base.durationMs.toFixed(0)} ms |
| +1,000 \`sleep\` processes, first scan | ${cold.processes.size} | ${cold.durationMs.toFixed(0)} ms |
| same, rescan (cached per-process facts), median of 5 | ${cold.processes.size} | ${pct(warm, 0.5).toFixed(0)} ms |
`;
    console.log(md);
    writeBenchSection('hostmetrics', md);
  } finally {
    for (const c of children) c.kill('SIGKILL');
  }
}

if (process.argv.includes('--serve')) {
  // Child mode: only our endpoint, so this process's CPU is the endpoint's.
  const hm = createHostMetrics({ config, logger: pino({ level: 'silent' }), metrics: new SelfMetrics(), resource: { attributes: {} }, sink: { push: () => 0 } });
  await hm.start();
  console.log(hm.prometheusAddress()!.port);
} else {
  await main();
}
