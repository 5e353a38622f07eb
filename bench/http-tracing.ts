// npm run bench:http-tracing — what HTTP tracing costs a traced server. nginx (one worker, a small static page)
// is driven at fixed rates up to saturation with the HTTP tracer detached and attached, alternating per rate, in
// one run. The agent (eBPF core + discovery + HTTP tracer) is its own process running the compiled code (dist/,
// built first), so what is measured is what ships. The load generator is a tool, not the system under test:
//   - "server traced": wrk (C, cheap) drives nginx and is excluded from tracing by a discovery.exclude rule on
//     its executable; every other process is traced (the default selection), so this is one server span per
//     request — the deployment where clients are elsewhere.
//   - "both ends traced": autocannon (a Node client, run by a link to the Node binary under its own name) drives
//     nginx and both are selected by discovery.instrument exe_path rules: a server and a client span per request.
// Reported per point: throughput and p99 (off / on), the agent's CPU (its process CPU on minus off, every thread),
// and the kernel time of the tracer's BPF programs (kernel.bpf_stats_enabled), which the traced processes pay in
// their own syscalls — per 1k req/s each.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, linkSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { writeBenchSection } from './lib/report.js';
import { RUNTIME_FLAGS } from '../src/cli/runtime-flags.js';
import { readStealTicks } from '../src/util/proc-stat-cpus.js';

const AGENT_FLAGS = process.env.TELEGEN_NODE_FLAGS !== undefined ? process.env.TELEGEN_NODE_FLAGS.split(/\s+/).filter(Boolean) : RUNTIME_FLAGS;
import { startNginx } from './lib/nginx.js';
import { wrkLoader, type WrkResult } from './lib/wrk.js';
import { freePort, waitForPort } from '../test/tracing/helpers.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
/**
 * Windows at saturation are long: there the agent suspends capture (agent.ebpf.http.overload: 250 ms of capture,
 * then suspend_for, 30 s, then 60 s while the overload lasts), so a fair window spans the first two cycles —
 * detection included — not one phase of one. (The tracer is started afresh for every on window.)
 */
const SATURATION_SECONDS = Number(process.env.BENCH_SATURATION_SECONDS ?? 64);
const SATURATION_REPEATS = Number(process.env.BENCH_SATURATION_REPEATS ?? 2);
const windowOf = (rate: number) => (rate > 0 ? SECONDS : SATURATION_SECONDS);
/**
 * At fixed rates, each window is measured after the load has run this long in the same state (off: tracer
 * detached; on: attached). The measured on window is thus the tracer in its operating regime at that rate, not
 * its first seconds after the quiet off windows (the tracer saw no traffic there): V8 shrinks its young generation
 * to 1 MiB while the agent allocates nothing and, until the allocation rate it measures is back above 1 MB/s,
 * gives the semi-space pages back after every scavenge and faults them in again (docs/http-tracing.md, "Cost").
 * Those first seconds are measured too and reported in their own column. 0: no settling (the earlier method).
 * 10 s: V8 judges the allocation rate over its last 5 s (GCTracer::kThroughputTimeFrameMs), so at 1k req/s the
 * churn lasts ~5–8 s after traffic resumes (per-second timelines); with 5 s of settling the 1k window still held
 * the end of it (1.41% settled, 2.31% in the first 5 s, 2026-12-04).
 */
const SETTLE_SECONDS = Number(process.env.BENCH_SETTLE_SECONDS ?? 10);
const pct = (share: number) => `${(share * 100).toFixed(0)}%`;
const RATES = (process.env.BENCH_RATES ?? '1000,2000,4000,8000,0').split(',').map(Number); // 0 = saturation
const CONNECTIONS = 16;
/** Off/on pairs per rate: the shared host's other work lands at random in one window or another. */
/** Which series to run: `server` (wrk, server traced) and/or `both` (autocannon, both ends traced). */
const MODES = (process.env.BENCH_MODES ?? 'server,both').split(',');
const REPEATS = Number(process.env.BENCH_REPEATS ?? 2);
const STATS_SYSCTL = '/proc/sys/kernel/bpf_stats_enabled';
/** agent.nice and agent.ebpf.http.shed_backlog_percent of the measured agent (defaults: the shipped ones). */
const AGENT_KNOBS = {
  ...(process.env.BENCH_NICE !== undefined ? { nice: Number(process.env.BENCH_NICE) } : {}),
  ...(process.env.BENCH_MAX_EXCHANGES !== undefined ? { maxExchangesPerCpu: Number(process.env.BENCH_MAX_EXCHANGES) } : {}),
  ...(process.env.BENCH_SCHED_IDLE ? { schedIdle: true } : {}),
  ...(process.env.BENCH_SHED_PERCENT !== undefined ? { shedPercent: Number(process.env.BENCH_SHED_PERCENT) } : {}),
  ...(process.env.BENCH_OVERLOAD === '0' ? { overload: false } : {}),
};

type Load = WrkResult;
interface Run extends Load { cpuSec: number; kernelSec: number; spans: number; spansOnPort: number; lost: number; shed: number; suspendedSec: number; suspensions: number; steal: number; statsSec: number }
type Loader = (rate: number, seconds?: number) => Promise<Load>;

/**
 * autocannon (a Node client, itself traced in "both ends traced"), run by `node` (a link to this Node binary
 * under another name): a discovery rule on that executable selects the load tool and no other Node process
 * of this shared host.
 */
function autocannonLoader(url: string, node: string): Loader {
  return (rate, seconds = SECONDS) => new Promise((resolve, reject) => {
    const args = ['-j', '-c', String(CONNECTIONS), '-d', String(seconds), ...(rate > 0 ? ['-R', String(rate)] : []), url];
    const p = spawn(node, [join(process.cwd(), 'node_modules/autocannon/autocannon.js'), ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('close', () => {
      try {
        const r = JSON.parse(out) as { requests: { average: number; total: number }; latency: { p99: number }; errors: number; non2xx: number };
        resolve({ rps: r.requests.average, requests: r.requests.total, p99: r.latency.p99, errors: r.errors + r.non2xx });
      } catch (e) {
        reject(e);
      }
    });
  });
}

/** The agent process (bench/lib/http-tracing-agent.mjs on dist/), one command at a time. */
class Agent {
  private readonly proc: ChildProcess;
  private readonly replies: Array<(line: string) => void> = [];

  constructor(opts: object) {
    // With the V8 flags `telegen run` gives itself (bin/telegen.js; TELEGEN_NODE_FLAGS replaces them, as there).
    this.proc = spawn(process.execPath, [...AGENT_FLAGS, join(import.meta.dirname, 'lib', 'http-tracing-agent.mjs'), JSON.stringify(opts)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    createInterface({ input: this.proc.stdout! }).on('line', (l) => this.replies.shift()?.(l));
  }

  command<T>(cmd: string): Promise<T> {
    return new Promise((resolve, reject) => {
      this.replies.push((l) => {
        const r = JSON.parse(l) as T & { error?: string };
        if (r.error) reject(new Error(r.error));
        else resolve(r);
      });
      this.proc.stdin!.write(`${cmd}\n`);
    });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.proc.once('close', () => resolve());
      this.proc.stdin!.end();
      setTimeout(() => this.proc.kill('SIGKILL'), 10_000).unref();
    });
  }
}

interface AgentStats { cpuUs: number; spans: number; spansOnPort: number; lost: number; shed: number; suspendedSec: number; suspensions: number }

interface ProgStats { name: string; ns: number; runs: number }

/** Run time and run count of the given BPF programs so far, from bpftool (kernel.bpf_stats_enabled). */
function bpfProgStats(ids: number[]): ProgStats[] {
  if (ids.length === 0) return [];
  const r = spawnSync('bpftool', ['-j', 'prog', 'show'], { maxBuffer: 64 << 20 });
  const progs = JSON.parse(r.stdout.toString() || '[]') as Array<{ id: number; name?: string; run_time_ns?: number; run_cnt?: number }>;
  const wanted = new Set(ids);
  return progs.filter((p) => wanted.has(p.id)).map((p) => ({ name: p.name ?? String(p.id), ns: p.run_time_ns ?? 0, runs: p.run_cnt ?? 0 }));
}

/** Per program, between two readings: runs per request and ns per run (BENCH_PROGRAMS=1 prints it). */
function programBreakdown(before: ProgStats[], after: ProgStats[], requests: number): string {
  const b = new Map(before.map((p) => [p.name, p]));
  return after.map((p) => ({ name: p.name, ns: p.ns - (b.get(p.name)?.ns ?? 0), runs: p.runs - (b.get(p.name)?.runs ?? 0) }))
    .filter((p) => p.runs > 0).sort((x, y) => y.ns - x.ns)
    .map((p) => `  ${p.name.padEnd(16)} ${(p.runs / requests).toFixed(2)} runs/req  ${(p.ns / p.runs).toFixed(0)} ns/run  ${(p.ns / requests).toFixed(0)} ns/req`)
    .join('\n');
}

async function measure(agent: Agent, load: Loader, rate: number, programs: number[], seconds = windowOf(rate)): Promise<Run> {
  const s0 = await agent.command<AgentStats>('stats');
  const at0 = performance.now();
  const k0 = bpfProgStats(programs);
  const t0 = readStealTicks();
  const r = await load(rate, seconds);
  const t1 = readStealTicks();
  // Let the last events reach the agent (delivery_latency, 200 ms) and be processed (batch_delay, 1 s) before
  // reading the CPU they cost and the spans they made.
  await new Promise((res) => setTimeout(res, 1500));
  const s1 = await agent.command<AgentStats>('stats');
  const statsSec = (performance.now() - at0) / 1000;
  const k1 = bpfProgStats(programs);
  const sum = (ps: ProgStats[]) => ps.reduce((n, p) => n + p.ns, 0);
  if (process.env.BENCH_PROGRAMS && programs.length) console.log(`rate ${rate}: ${r.rps.toFixed(0)} req/s\n${programBreakdown(k0, k1, r.requests)}`);
  return {
    ...r, cpuSec: (s1.cpuUs - s0.cpuUs) / 1e6, kernelSec: (sum(k1) - sum(k0)) / 1e9, spans: s1.spans - s0.spans,
    spansOnPort: s1.spansOnPort - s0.spansOnPort, lost: s1.lost - s0.lost, shed: s1.shed - s0.shed,
    suspendedSec: s1.suspendedSec - s0.suspendedSec, suspensions: s1.suspensions - s0.suspensions,
    steal: (t1.steal - t0.steal) / Math.max(1, t1.total - t0.total), statsSec,
  };
}

type Mode = 'server traced' | 'both ends traced';

async function series(mode: Mode, port: number, load: Loader, agentOpts: object, rows: string[]): Promise<void> {
  const agent = new Agent({ port, ...AGENT_KNOBS, ...agentOpts });
  try {
    // Warm the tracer's code (JIT) with traced traffic before anything is measured.
    await agent.command('on');
    await load(0, 2);
    for (const rate of RATES) {
      const offs: Run[] = [];
      const ons: Run[] = [];
      const firsts: Run[] = [];
      const repeats = rate > 0 ? REPEATS : SATURATION_REPEATS;
      const settle = rate > 0 ? SETTLE_SECONDS : 0;
      for (let i = 0; i < repeats; i++) {
        await agent.command('off');
        if (settle > 0) await load(rate, settle);
        offs.push(await measure(agent, load, rate, []));
        const { programs } = await agent.command<{ programs: number[] }>('on');
        if (settle > 0) firsts.push(await measure(agent, load, rate, programs, settle));
        ons.push(await measure(agent, load, rate, programs));
      }
      // Throughput and p99: the best window of each kind (least disturbed by the rest of the host). CPU: the
      // mean over the pairs of (on − off) per request, as % of a core per 1k req/s (= CPU seconds × 1e5 / requests).
      const best = (runs: Run[]) => runs.reduce((a, b) => (b.rps > a.rps ? b : a));
      const off = best(offs);
      const on = best(ons);
      const mean = (f: (i: number) => number) => offs.reduce((n, _, i) => n + f(i), 0) / repeats;
      const agentPerK = mean((i) => (Math.max(0, ons[i]!.cpuSec - offs[i]!.cpuSec) * 1e5) / Math.max(1, ons[i]!.requests));
      // The first seconds after attaching, against the off window scaled to the same number of requests.
      const firstPerK = firsts.length === repeats
        ? `${mean((i) => (Math.max(0, firsts[i]!.cpuSec - (offs[i]!.cpuSec * firsts[i]!.requests) / Math.max(1, offs[i]!.requests)) * 1e5) / Math.max(1, firsts[i]!.requests)).toFixed(2)}%`
        : '—';
      const kernelPerK = mean((i) => (ons[i]!.kernelSec * 1e5) / Math.max(1, ons[i]!.requests));
      const agentCores = mean((i) => Math.max(0, ons[i]!.cpuSec - offs[i]!.cpuSec) / windowOf(rate));
      // Share of the on windows with capture suspended under overload (and how many suspensions), over the time
      // between the two stats readings: they bracket the load and the 1.5 s drain after it, and the suspended
      // seconds run on through both.
      const suspended = `${((100 * ons.reduce((n, r) => n + r.suspendedSec, 0)) / ons.reduce((n, r) => n + r.statsSec, 0)).toFixed(0)}% (${ons.reduce((n, r) => n + r.suspensions, 0)}×)`;
      const perRequest = mode === 'both ends traced' ? 2 : 1;
      const spanRatio = ons.reduce((n, r) => n + r.spansOnPort, 0) / Math.max(1, ons.reduce((n, r) => n + r.requests, 0) * perRequest);
      rows.push(`| ${mode} | ${rate > 0 ? rate : 'saturation'} | ${off.rps.toFixed(0)} | ${on.rps.toFixed(0)} | ${(on.rps / off.rps).toFixed(3)} | ${off.p99.toFixed(2)} | ${on.p99.toFixed(2)} | ${(agentCores * 100).toFixed(1)}% | ${agentPerK.toFixed(2)}% | ${firstPerK} | ${kernelPerK.toFixed(2)}% | ${spanRatio.toFixed(2)} | ${ons.reduce((n, r) => n + r.spans - r.spansOnPort, 0)} | ${ons.reduce((n, r) => n + r.lost, 0)} | ${ons.reduce((n, r) => n + r.shed, 0)} | ${suspended} | ${pct(off.steal)} / ${pct(on.steal)} | ${[...offs, ...ons].reduce((n, r) => n + r.errors, 0)} |`);
      console.log(rows.at(-1));
    }
  } finally {
    await agent.stop();
  }
}

async function main(): Promise<void> {
  // The measured agent runs the compiled code: build it (incremental) first.
  const tsc = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
  if (!existsSync('dist/tracing/http-tracer.js')) throw new Error(`tsc did not produce dist/ (exit ${tsc.status})`);
  // The user-space path in isolation (compiled), as a reference for the agent CPU below.
  const micro = JSON.parse(spawnSync(process.execPath, [join(import.meta.dirname, 'lib', 'http-tracing-micro.mjs')]).stdout.toString()) as { server: number; both: number };
  console.log(`user space in isolation: ${micro.server.toFixed(2)} µs per server exchange, ${micro.both.toFixed(2)} µs per client + server pair`);
  const statsBefore = existsSync(STATS_SYSCTL) ? readFileSync(STATS_SYSCTL, 'utf8').trim() : undefined;
  if (statsBefore !== undefined) writeFileSync(STATS_SYSCTL, '1');
  const dir = mkdtempSync(join(tmpdir(), 'tg-bench-http-'));
  const port = await freePort();
  const nginx = startNginx(dir, port);
  const url = `http://127.0.0.1:${port}/index.html`;
  const rows: string[] = [];
  try {
    await waitForPort(port);
    const wrkAt = wrkLoader(url, dir, CONNECTIONS);
    const wrk: Loader = (rate, seconds = SECONDS) => wrkAt(rate, seconds);
    await wrk(0, 2); // warm-up
    // Other engineers' servers (nginx among them) run on this host too: selecting ours by executable AND port
    // keeps their traffic out of the measurement; the load tool is excluded by its executable.
    const ours = { exe_path: '*/nginx', open_ports: String(port) };
    if (MODES.includes('server')) await series('server traced', port, wrk, { instrument: [ours], exclude: [{ exe_path: '*/wrk' }] }, rows);
    const loadNode = join(dir, 'tg-loadgen-node');
    try {
      linkSync(realpathSync(process.execPath), loadNode);
    } catch {
      copyFileSync(realpathSync(process.execPath), loadNode); // another filesystem
      chmodSync(loadNode, 0o755);
    }
    if (MODES.includes('both')) await series('both ends traced', port, autocannonLoader(url, loadNode),
      { instrument: [ours, { exe_path: '*/tg-loadgen-node' }] }, rows);
  } finally {
    nginx.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    if (statsBefore !== undefined) writeFileSync(STATS_SYSCTL, statsBefore);
  }
  const cpus = spawnSync('nproc').stdout.toString().trim();
  writeBenchSection('http-tracing', `
nginx (1 worker, a 300-byte static page, ${CONNECTIONS} keep-alive connections, ${SECONDS} s per window at fixed rates,
each measured after the same load has run ${SETTLE_SECONDS} s in the same state (BENCH_SETTLE_SECONDS; before 2026-12-04: no
settling), ${SATURATION_SECONDS} s at saturation) with the HTTP tracer detached ("off") and attached ("on"), alternating per rate in
one run, ${REPEATS} off/on pairs per fixed rate and ${SATURATION_REPEATS} at saturation (throughput and p99: the best window
of each kind; CPU: the mean over the pairs). At saturation the agent suspends capture
(\`agent.ebpf.http.overload\`: a CPU shedding while 70% busy, or the agent over 10% of the host's CPU while the host is 70% busy → every HTTP program
detached for 30 s, then capture resumes and is checked 250 ms later; the next suspension lasts 60 s), so a
saturation window spans the first two cycles (the tracer starts afresh in every on window), detection phases included; *capture suspended* is the share of the on windows (from the stats reading before the load to the one after its 1.5 s drain) spent suspended (and how many
times). *steal*: the share of this VM's CPU time the hypervisor gave to other guests during the window (best
window of each kind) — a stolen vCPU runs neither nginx nor wrk, so windows with a high steal are slower
whatever the agent does. BENCH_OVERLOAD=0 runs the agent with the overload suspension off. The agent (eBPF core + discovery +
HTTP tracer; its sink counts and forgets spans: export cost is bench:export's) is a separate process running the
compiled dist/ code with the V8 flags \`telegen run\` gives itself (${AGENT_FLAGS.join(" ") || "none"}; TELEGEN_NODE_FLAGS replaces them). **server traced**: the load generator is wrk, excluded from tracing by
\`discovery.exclude: [{exe_path: "*/wrk"}]\`; the server is selected by \`discovery.instrument: [{exe_path: "*/nginx",
open_ports: <its port>}]\` (other engineers' nginx instances run on this host too): one server span per request.
**both ends traced**: autocannon (run by a link to the Node binary named \`tg-loadgen-node\`) and nginx selected
by \`discovery.instrument\` exe_path rules (no other Node process of the host): a client and a server span per
request. Fixed rates are approximate for wrk (a per-connection pause); the measured rate is shown.

- *user space in isolation* (bench/lib/http-tracing-micro.mjs: recorded-layout batches through the compiled
  reader → parser → span → RED): **${micro.server.toFixed(2)} µs per server exchange, ${micro.both.toFixed(2)} µs per client +
  server pair** (≈ ${(micro.server / 10).toFixed(2)}% / ${(micro.both / 10).toFixed(2)}% of a core per 1k req/s before ring-buffer delivery and GC);
- *agent CPU*: the agent process's CPU (all threads) on minus off, per 1k req/s of traced traffic, with the
  tracer settled at the rate; *first ${SETTLE_SECONDS} s after attach*: the same for the settling seconds right after the
  tracer attached following ${SECONDS + SETTLE_SECONDS} s without traffic to trace (V8's young generation shrunk meanwhile and
  grows back: see docs/http-tracing.md, "Cost") — what a traced server pays once when traffic resumes after a pause;
- *kernel*: run time of the tracer's BPF programs (\`kernel.bpf_stats_enabled\`), per 1k req/s: paid inside the
  syscalls that hit the tracepoints (not in the agent's CPU) — the traced processes', and a hash lookup for every
  read/write/close of every other process on the host (which dominates at low rates on this busy host);
- *span ratio*: spans for the nginx port / (requests × spans per request) — 1.00 means one span per request and
  traced side; *other spans*: traffic of other processes on this shared host traced meanwhile (costs agent CPU);
  *lost*: ring-buffer records dropped; *shed*: exchanges the kernel did not capture because the agent was behind
  (\`agent.ebpf.http.shed_backlog_percent\`, default 25% of the ring) or a CPU went over
  \`agent.ebpf.http.max_exchanges_per_cpu\` (default 25k/s) — at saturation the span ratio shows what was captured.
  The agent runs as shipped: every thread at \`agent.nice\` (default 10) (BENCH_NICE / BENCH_MAX_EXCHANGES / BENCH_SHED_PERCENT /
  BENCH_SCHED_IDLE change that for experiments; BENCH_PROGRAMS=1 prints the BPF time per program and request).

${cpus} cores shared with other engineers' work, and nginx, the load tool and the agent share them: figures are
noisy. Goal: ≤ 1% of a core per 1k req/s, ≥ 0.97 throughput at saturation (see docs/http-tracing.md for what
bounds the saturation ratio on 2 cores). Anchor (field notes): Coroot ~2% of a core per 1k req/s.

| traced | rate (req/s) | off req/s | on req/s | throughput ratio | off p99 ms | on p99 ms | agent CPU | agent CPU per 1k req/s | same, first ${SETTLE_SECONDS} s after attach | kernel per 1k req/s | span ratio | other spans | lost | shed | capture suspended | steal off / on | errors |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}
`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
