// npm run bench:http-tracing — what HTTP tracing costs a traced server. nginx (one worker, a small static
// page) is driven by autocannon at fixed rates up to saturation, with the HTTP tracer detached and attached, in
// the same run and alternating per rate. This process is the agent (eBPF core + discovery + HTTP tracer); the
// load tool and the server are separate processes. Reported: the agent's CPU per 1k req/s (its process CPU with
// the tracer minus without), throughput ratio and p99 ratio (with / without). The kernel-side cost (our
// tracepoints run in the server's and the load tool's syscalls) shows up in the ratios, not in agent CPU.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeBenchSection } from './lib/report.js';
import { startAgentSlice, freePort, waitForPort } from '../test/tracing/helpers.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const RATES = (process.env.BENCH_RATES ?? '1000,2000,4000,0').split(',').map(Number); // 0 = saturation
const CONNECTIONS = 16;

interface Run { rps: number; p99: number; p50: number; errors: number; cpuSec: number; spans: number }

function startNginx(dir: string, port: number): ChildProcess {
  mkdirSync(join(dir, 'html'));
  writeFileSync(join(dir, 'html', 'index.html'), '<h1>bench</h1>\n'.repeat(20));
  writeFileSync(join(dir, 'nginx.conf'), `daemon off; master_process off; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events { worker_connections 1024; }
http { access_log off; client_body_temp_path ${dir}/t; proxy_temp_path ${dir}/t; fastcgi_temp_path ${dir}/t; uwsgi_temp_path ${dir}/t; scgi_temp_path ${dir}/t;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:${port}; root ${dir}/html; } }`);
  return spawn('/usr/sbin/nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
}

function autocannon(url: string, rate: number, seconds = SECONDS): Promise<{ rps: number; p99: number; p50: number; errors: number }> {
  const args = ['-j', '-c', String(CONNECTIONS), '-d', String(seconds), ...(rate > 0 ? ['-R', String(rate)] : []), url];
  return new Promise((resolve, reject) => {
    const p = spawn(join(process.cwd(), 'node_modules/.bin/autocannon'), args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('close', () => {
      try {
        const r = JSON.parse(out) as { requests: { average: number }; latency: { p99: number; p50: number }; errors: number; non2xx: number };
        resolve({ rps: r.requests.average, p99: r.latency.p99, p50: r.latency.p50, errors: r.errors + r.non2xx });
      } catch (e) {
        reject(e);
      }
    });
  });
}

async function measure(url: string, rate: number, spansNow: () => number): Promise<Run> {
  const spans0 = spansNow();
  const cpu0 = process.cpuUsage();
  const r = await autocannon(url, rate);
  // Let the last events drain before reading the CPU they cost.
  await new Promise((res) => setTimeout(res, 300));
  const cpu = process.cpuUsage(cpu0);
  return { ...r, cpuSec: (cpu.user + cpu.system) / 1e6, spans: spansNow() - spans0 };
}

type Mode = 'both ends traced' | 'server only';

async function series(url: string, port: number, mode: Mode, rows: string[]): Promise<void> {
  // "server only": discovery.instrument selects nginx by its port, so only nginx's side is traced (the common case
  // of clients outside the host) and nothing else on this shared host adds to the agent's CPU. "both ends": the
  // default (every process): the load tool's client side too — and whatever else runs on the host meanwhile.
  // Discovery's periodic /proc rescan (exec/exit events still update it) would land at random in one window or
  // the other; it is not the tracer's cost.
  const slice = await startAgentSlice((c) => {
    c.discovery.scan_interval = '1h';
    if (mode === 'server only') c.discovery.instrument = [{ open_ports: String(port) }];
  }, { record: false });
  let spans = 0;
  slice.tracer.onSpan(() => spans++);
  try {
    // Warm the tracer's code (JIT) with traffic before anything is measured.
    await autocannon(url, 0, 2);
    for (const rate of RATES) {
      await slice.tracer.stop();
      const off = await measure(url, rate, () => spans);
      await slice.tracer.start();
      const on = await measure(url, rate, () => spans);
      const extraCpu = Math.max(0, on.cpuSec - off.cpuSec) / SECONDS; // cores
      const perK = on.rps > 0 ? (extraCpu * 100) / (on.rps / 1000) : 0;
      rows.push(`| ${mode} | ${rate > 0 ? rate : 'saturation'} | ${off.rps.toFixed(0)} | ${on.rps.toFixed(0)} | ${(on.rps / off.rps).toFixed(3)} | ${off.p99} | ${on.p99} | ${(on.p99 / Math.max(off.p99, 1)).toFixed(2)} | ${(extraCpu * 100).toFixed(1)}% | ${perK.toFixed(2)}% | ${on.spans} | ${off.errors + on.errors} |`);
      console.log(rows.at(-1));
    }
  } finally {
    await slice.stop();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tg-bench-http-'));
  const port = await freePort();
  const nginx = startNginx(dir, port);
  const url = `http://127.0.0.1:${port}/index.html`;
  const rows: string[] = [];
  try {
    await waitForPort(port);
    await autocannon(url, 0); // warm-up
    await series(url, port, 'both ends traced', rows);
    await series(url, port, 'server only', rows);
  } finally {
    nginx.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
  const cpus = spawnSync('nproc').stdout.toString().trim();
  writeBenchSection('http-tracing', `
nginx (1 worker, ${CONNECTIONS} keep-alive connections from autocannon, ${SECONDS} s per point) with the HTTP tracer
detached ("off") and attached ("on"), alternating in one run. Agent CPU is this process's CPU with the tracer
minus without (user space: decoding, parsing, spans, RED); the in-kernel cost of the tracepoints is paid by the
server's and load tool's syscalls and shows in the throughput and p99 ratios. "both ends traced": nginx and the
load tool (a server and a client span per request), and any other traffic on the host meanwhile; "server only":
\`discovery.instrument\` selects nginx by its port. Each series starts with 2 s of traced warm-up traffic;
discovery's periodic rescan is off during the run (not the tracer's cost).
${cpus} cores shared with other engineers' work (and the load tool and nginx share them with the agent): noisy.
Goal: ≤ 1% of a core per 1k req/s, ≥ 0.97 throughput at saturation. Anchor (field notes): Coroot ~20% of a core
at 10k req/s (2% per 1k req/s).

| traced | rate (req/s) | off req/s | on req/s | throughput ratio | off p99 ms | on p99 ms | p99 ratio | agent CPU | agent CPU per 1k req/s | spans | errors |
|---|---|---|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}
`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
