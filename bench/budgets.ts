// npm run bench:budgets — does the real agent (`node bin/telegen.js run`, embedded defaults but for the API port
// and data directories) keep its resource budgets? Budgets (developers' guide): idle ≤ 70 MB resident and ≤ 0.5%
// of a core; ≤ 200 MB at 10k spans/s.
//   idle: the agent and its peer, Debian's prometheus-node-exporter, idle side by side for BENCH_IDLE_SECONDS;
//         RSS, PSS (/proc/<pid>/smaps_rollup), the eBPF ring buffer's mapping on its own, CPU and wakeups.
//   load: wrk drives ~10k req/s at a local nginx (traced) for BENCH_LOAD_SECONDS; wrk is excluded from tracing by
//         a discovery.exclude exe_path rule, so each request is one server span. Peak RSS and CPU of the agent.
// The host is shared (other engineers run tests and benchmarks whose HTTP traffic the agent traces), so idle CPU
// is also given by attribution: the agent's own counters say how many spans it made meanwhile, and the CPU per
// span measured under load is taken out.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeBenchSection } from './lib/report.js';
import { startNginx } from './lib/nginx.js';
import { freePort } from '../test/helpers/net.js';

const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 30);
const LOAD_SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 20);
const TARGET_RPS = Number(process.env.BENCH_RPS ?? 10_000);
// V8's memory reducer runs 15–20 s after start-up (three full GCs that halve the heap: ~20 MB of RSS, and most of
// the CPU of an idle window that includes them): the idle window opens after it.
const SETTLE_SECONDS = Number(process.env.BENCH_SETTLE_SECONDS ?? 30);
const RINGBUF_BYTES = 16 * 1024 * 1024; // agent.ebpf.ringbuf_size default
const MB = 1024; // /proc reports kB
const BUDGET = { idleRssMb: 70, idleCpuPct: 0.5, loadRssMb: 200 };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitForPort(port: number, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`port ${port} did not open within ${ms} ms`);
}

// ---- /proc readings ----------------------------------------------------------------------------------------

interface Memory { rssKb: number; pssKb: number; ringbufRssKb: number; ringbufPssKb: number; anonKb: number }

/** RSS and PSS of the whole process, and of the BPF ring buffer's mapping(s) alone (anon_inode:bpf-map, shared). */
function memory(pid: number): Memory {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const field = (text: string, name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
  let ringbufRssKb = 0;
  let ringbufPssKb = 0;
  // The ring buffer is a shared mapping of a bpf-map anon inode (the addon maps the data area once; libbpf's
  // consumer mapped it twice). Only mappings at least as big as the data area count.
  const smaps = readFileSync(`/proc/${pid}/smaps`, 'utf8').split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/);
  for (const m of smaps) {
    const head = m.slice(0, m.indexOf('\n'));
    if (!head.includes('bpf-map')) continue;
    const size = field(m, 'Size');
    if (size * 1024 < RINGBUF_BYTES) continue;
    ringbufRssKb += field(m, 'Rss');
    ringbufPssKb += field(m, 'Pss');
  }
  return { rssKb: field(rollup, 'Rss'), pssKb: field(rollup, 'Pss'), ringbufRssKb, ringbufPssKb, anonKb: field(rollup, 'Anonymous') };
}

/** CPU time of every thread of the process, in ns (schedstat: more precise than clock ticks). */
function cpuNs(pid: number): number {
  let ns = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    } catch { /* thread exited */ }
  }
  return ns;
}

/** Voluntary + involuntary context switches of every thread: how often the process wakes up. */
function wakeups(pid: number): number {
  let n = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      const s = readFileSync(`/proc/${pid}/task/${t}/status`, 'utf8');
      n += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(s)?.[1] ?? 0) + Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(s)?.[1] ?? 0);
    } catch { /* thread exited */ }
  }
  return n;
}

/** Processes created on the whole host since boot (/proc/stat "processes"): exec/exit events drive discovery reads. */
function hostForks(): number {
  return Number(/^processes (\d+)/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1] ?? 0);
}

interface Window { seconds: number; cpuPct: number; wakeupsPerSec: number; mem: Memory; peak: Memory }

/** Watch `pid` for `seconds`: CPU over the window, memory at its end and at its peak (sampled every 250 ms). */
async function watch(pid: number, seconds: number, during?: Promise<unknown>): Promise<Window> {
  const t0 = process.hrtime.bigint();
  const c0 = cpuNs(pid);
  const w0 = wakeups(pid);
  let peak = memory(pid);
  let done = false;
  void during?.finally(() => { done = true; });
  const end = Date.now() + seconds * 1000;
  while (during ? !done : Date.now() < end) {
    await sleep(250);
    const m = memory(pid);
    if (m.rssKb > peak.rssKb) peak = m;
  }
  const wall = Number(process.hrtime.bigint() - t0);
  return {
    seconds: wall / 1e9,
    cpuPct: ((cpuNs(pid) - c0) / wall) * 100,
    wakeupsPerSec: (wakeups(pid) - w0) / (wall / 1e9),
    mem: memory(pid),
    peak,
  };
}

// ---- processes -----------------------------------------------------------------------------------------------

interface Agent { proc: ChildProcess; apiPort: number; log: () => string }

async function startAgent(dir: string, extra = ''): Promise<Agent> {
  const apiPort = await freePort();
  mkdirSync(dir, { recursive: true });
  const cfg = join(dir, 'telegen.yaml');
  writeFileSync(cfg, `self_telemetry:
  listen: 127.0.0.1:${apiPort}
queue:
  directory: ${join(dir, 'queue')}
file_exporter:
  directory: ${join(dir, 'output')}
${extra}`);
  const proc = spawn(process.execPath, ['bin/telegen.js', 'run', '-c', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => { if (out.length < 1e6) out += d.toString(); });
  proc.stderr?.on('data', (d: Buffer) => { if (out.length < 1e6) out += d.toString(); });
  const started = Date.now();
  while (!out.includes('telegen started')) {
    if (proc.exitCode !== null || Date.now() - started > 30_000) throw new Error(`agent did not start:\n${out}`);
    await sleep(100);
  }
  return { proc, apiPort, log: () => out };
}

async function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill('SIGTERM');
  await Promise.race([exited, sleep(20_000)]);
  if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
}

/** Sum of one self-metric family (all label sets) from the agent's /metrics. */
async function selfMetric(agent: Agent, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${agent.apiPort}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name) && (line[name.length] === ' ' || line[name.length] === '{')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

/**
 * wrk has no rate option; each connection waits `delay` ms before each request (its Lua `delay()` hook), so
 * the rate is about connections × 1000 / (delay + latency). Returns the achieved rate.
 */
function wrk(url: string, dir: string, connections: number, delayMs: number, seconds: number): Promise<number> {
  const script = join(dir, 'pace.lua');
  writeFileSync(script, `function delay() return ${delayMs} end\n`);
  return new Promise((resolve, reject) => {
    const args = ['-t', '1', '-c', String(connections), '-d', `${seconds}s`, ...(delayMs > 0 ? ['-s', script] : []), url];
    const p = spawn('/usr/bin/wrk', args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('close', () => {
      const m = /Requests\/sec:\s+([\d.]+)/.exec(out);
      if (m) resolve(Number(m[1]));
      else reject(new Error(`wrk: ${out}`));
    });
  });
}

// ---- the benchmark -------------------------------------------------------------------------------------------

const mb = (kb: number): string => (kb / MB).toFixed(1);
const verdict = (ok: boolean): string => (ok ? 'within' : '**over**');

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tg-bench-budgets-'));
  const procs: ChildProcess[] = [];
  const lines: string[] = [];
  try {
    // ---- idle ----
    // Two agents side by side: one on the defaults (it traces whatever the shared host does meanwhile), one whose
    // discovery.instrument matches no process, so the kernel filters every foreign HTTP exchange out: its figures
    // are the agent's own idle cost (TCP flow events still reach it).
    const agent = await startAgent(join(dir, 'idle'));
    procs.push(agent.proc);
    const quiet = await startAgent(join(dir, 'quiet'), `discovery:
  instrument:
    - exe_path: "/nonexistent/telegen-bench-nothing"
`);
    procs.push(quiet.proc);
    // The floor: a bare Node process with one timer, same binary (and the agent's semi-space flag: it only caps growth).
    const bare = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    procs.push(bare);
    const nePort = await freePort();
    const ne = spawn('/usr/bin/prometheus-node-exporter', [`--web.listen-address=127.0.0.1:${nePort}`], { stdio: 'ignore' });
    procs.push(ne);
    await waitForPort(nePort);
    // Let start-up work (first scans, JIT, GC) settle before the window opens.
    await sleep(SETTLE_SECONDS * 1000);
    const spans0 = await selfMetric(agent, 'telegen_spans_collected_total');
    const events0 = await selfMetric(agent, 'telegen_ebpf_ringbuf_events_total');
    const qevents0 = await selfMetric(quiet, 'telegen_ebpf_ringbuf_events_total');
    // node_exporter does nothing until scraped; the agent collects host metrics every 15 s (its default
    // interval), so the peer is scraped at the same pace, as Prometheus would.
    const scrape = (): void => void fetch(`http://127.0.0.1:${nePort}/metrics`).then((r) => r.text()).catch(() => undefined);
    scrape();
    const scraper = setInterval(scrape, 15_000);
    const forks0 = hostForks();
    const [ai, qi, ni, bi] = await Promise.all([watch(agent.proc.pid!, IDLE_SECONDS), watch(quiet.proc.pid!, IDLE_SECONDS), watch(ne.pid!, IDLE_SECONDS), watch(bare.pid!, IDLE_SECONDS)]);
    const forksPerSec = (hostForks() - forks0) / ai.seconds;
    clearInterval(scraper);
    const idleSpans = (await selfMetric(agent, 'telegen_spans_collected_total')) - spans0;
    const idleEvents = (await selfMetric(agent, 'telegen_ebpf_ringbuf_events_total')) - events0;
    const quietEvents = (await selfMetric(quiet, 'telegen_ebpf_ringbuf_events_total')) - qevents0;
    await stop(agent.proc);
    await stop(quiet.proc);
    await stop(ne);
    await stop(bare);
    console.log('idle agent', ai, 'spans', idleSpans, 'events', idleEvents);
    console.log('quiet agent', qi, 'events', quietEvents);
    console.log('idle node_exporter', ni);

    // ---- load ----
    const webPort = await freePort();
    const nginxDir = join(dir, 'nginx');
    const nginx = startNginx(nginxDir, webPort, 'budgets');
    procs.push(nginx);
    await waitForPort(webPort);
    const loaded = await startAgent(join(dir, 'load'), `discovery:
  exclude:
    - exe_path: "*/wrk"
`);
    procs.push(loaded.proc);
    const url = `http://127.0.0.1:${webPort}/index.html`;
    // Find the pacing that gives ~TARGET_RPS (short probes, traced, so the agent is warm when the window opens).
    let connections = 20;
    const delayMs = 2;
    for (let i = 0; i < 4; i++) {
      const rps = await wrk(url, dir, connections, delayMs, 3);
      connections = Math.max(1, Math.min(200, Math.round((connections * TARGET_RPS) / Math.max(rps, 1))));
    }
    await sleep(2000);
    const lspans0 = await selfMetric(loaded, 'telegen_spans_collected_total');
    const levents0 = await selfMetric(loaded, 'telegen_ebpf_ringbuf_events_total');
    const run = wrk(url, dir, connections, delayMs, LOAD_SECONDS);
    const al = await watch(loaded.proc.pid!, LOAD_SECONDS, run);
    const achieved = await run;
    const loadSpans = (await selfMetric(loaded, 'telegen_spans_collected_total')) - lspans0;
    const spansPerSec = loadSpans / al.seconds;
    const loadEvents = (await selfMetric(loaded, 'telegen_ebpf_ringbuf_events_total')) - levents0;
    // HTTP capture suspended under overload (agent.ebpf.http.overload) since the agent started: the load row
    // only measures tracing at ~10k spans/s when it was not.
    const byReason = [...(await (await fetch(`http://127.0.0.1:${loaded.apiPort}/metrics`)).text())
      .matchAll(/^telegen_http_capture_suspensions_total\{reason="(\w+)"\} (\d+)/gm)].map((m) => ({ reason: m[1]!, n: Number(m[2]) }));
    const suspensions = byReason.reduce((sum, r) => sum + r.n, 0);
    const suspensionReasons = byReason.map((r) => `${r.reason} ${r.n}`).join(', ');
    await stop(loaded.proc);
    await stop(nginx);
    console.log('load agent', al, 'req/s', achieved, 'spans/s', spansPerSec);

    // ---- attribution of idle CPU: take out what the foreign traffic cost, at the per-event price measured under
    // load (every span and flow comes from ring-buffer events; the agent's own timers produce none) ----
    const cpuPerSpanPctSec = spansPerSec > 0 ? al.cpuPct / spansPerSec : 0; // %·s per span
    const cpuPerEventPctSec = loadEvents > 0 ? al.cpuPct / (loadEvents / al.seconds) : 0;
    const foreignPct = (idleEvents / ai.seconds) * cpuPerEventPctSec;
    const ownIdlePct = Math.max(0, ai.cpuPct - foreignPct);

    const noRb = (m: Memory): number => m.rssKb - m.ringbufRssKb;
    lines.push(
      `Agent: \`node bin/telegen.js run -c <config>\`, embedded defaults except the API port and the queue/output`,
      `directories (eBPF on, 16 MiB ring buffer, host metrics, discovery, HTTP and TCP tracing, file exporter).`,
      `Peer: Debian's prometheus-node-exporter 1.5 (defaults), idling over the same ${IDLE_SECONDS} s window after ${SETTLE_SECONDS} s of settling,`,
      `scraped every 15 s (the agent's host-metrics interval) as Prometheus would.`,
      `Load: nginx (1 worker) driven by wrk (paced with a Lua delay, excluded from tracing by \`discovery.exclude: [{exe_path: "*/wrk"}]\`) for ${LOAD_SECONDS} s.`,
      `The ring buffer's data pages are mapped once (the addon's own consumer; libbpf's mapped them twice, 32 MiB of RSS) and all resident.`,
      `"w/o ring buffer" subtracts that mapping: it is kernel memory sized by \`agent.ebpf.ringbuf_size\`, not the agent's heap.`,
      `Other work on the host (tests, benchmarks) is HTTP traffic the agent traces while "idle" (see "foreign spans"):`,
      `"idle CPU, attributed" takes out the ring-buffer events it handled meanwhile at the per-event CPU measured under`,
      `load (a lower bound of that cost: at low rates events come in small batches, each dearer). "Quiet idle" is a second`,
      `agent in the same window whose \`discovery.instrument\` matches no process (the kernel drops foreign HTTP`,
      `exchanges; TCP flow and process exec/exit/listen events still arrive): the agent's own idle cost, plus what the host's`,
      `process churn costs it (see "host process creations"). Noisy.`,
      '',
      '| figure | agent | node_exporter | ratio (agent / peer) | budget | |',
      '|---|---|---|---|---|---|',
      `| idle RSS (MB) | ${mb(ai.mem.rssKb)} | ${mb(ni.mem.rssKb)} | ${(ai.mem.rssKb / ni.mem.rssKb).toFixed(2)} | ≤ ${BUDGET.idleRssMb} | ${verdict(ai.mem.rssKb / MB <= BUDGET.idleRssMb)} |`,
      `| idle RSS w/o ring buffer (MB) | ${mb(noRb(ai.mem))} | ${mb(ni.mem.rssKb)} | ${(noRb(ai.mem) / ni.mem.rssKb).toFixed(2)} | ≤ ${BUDGET.idleRssMb} | ${verdict(noRb(ai.mem) / MB <= BUDGET.idleRssMb)} |`,
      `| ring buffer mapping RSS / PSS (MB) | ${mb(ai.mem.ringbufRssKb)} / ${mb(ai.mem.ringbufPssKb)} | – | | | |`,
      `| idle PSS (MB) | ${mb(ai.mem.pssKb)} | ${mb(ni.mem.pssKb)} | ${(ai.mem.pssKb / ni.mem.pssKb).toFixed(2)} | | |`,
      `| idle PSS w/o ring buffer (MB) | ${mb(ai.mem.pssKb - ai.mem.ringbufPssKb)} | ${mb(ni.mem.pssKb)} | ${((ai.mem.pssKb - ai.mem.ringbufPssKb) / ni.mem.pssKb).toFixed(2)} | | |`,
      `| idle anonymous memory (MB) | ${mb(ai.mem.anonKb)} | ${mb(ni.mem.anonKb)} | ${(ai.mem.anonKb / ni.mem.anonKb).toFixed(2)} | | |`,
      `| quiet idle RSS / w/o ring buffer / PSS (MB) | ${mb(qi.mem.rssKb)} / ${mb(noRb(qi.mem))} / ${mb(qi.mem.pssKb)} | ${mb(ni.mem.rssKb)} / – / ${mb(ni.mem.pssKb)} | ${(noRb(qi.mem) / ni.mem.rssKb).toFixed(2)} (w/o ring buffer) | ≤ ${BUDGET.idleRssMb} | ${verdict(qi.mem.rssKb / MB <= BUDGET.idleRssMb)} (${verdict(noRb(qi.mem) / MB <= BUDGET.idleRssMb)} w/o ring buffer) |`,
      `| quiet idle CPU (% of a core) | ${qi.cpuPct.toFixed(2)} (ring buffer events ${(quietEvents / qi.seconds).toFixed(0)}/s) | ${ni.cpuPct.toFixed(2)} | ${(qi.cpuPct / Math.max(ni.cpuPct, 0.001)).toFixed(1)} | ≤ ${BUDGET.idleCpuPct} | ${verdict(qi.cpuPct <= BUDGET.idleCpuPct)} |`,
      `| quiet idle wakeups (per s) | ${qi.wakeupsPerSec.toFixed(0)} | ${ni.wakeupsPerSec.toFixed(0)} | | | |`,
      `| idle CPU, measured (% of a core) | ${ai.cpuPct.toFixed(2)} | ${ni.cpuPct.toFixed(2)} | ${(ai.cpuPct / Math.max(ni.cpuPct, 0.001)).toFixed(1)} | ≤ ${BUDGET.idleCpuPct} | ${verdict(ai.cpuPct <= BUDGET.idleCpuPct)} |`,
      `| idle CPU, attributed (% of a core) | ${ownIdlePct.toFixed(2)} | ${ni.cpuPct.toFixed(2)} | ${(ownIdlePct / Math.max(ni.cpuPct, 0.001)).toFixed(1)} | ≤ ${BUDGET.idleCpuPct} | ${verdict(ownIdlePct <= BUDGET.idleCpuPct)} |`,
      `| foreign spans traced while idle (per s) | ${(idleSpans / ai.seconds).toFixed(1)} (ring buffer events ${(idleEvents / ai.seconds).toFixed(0)}/s) | – | | | |`,
      `| floor: bare \`node -e 'setInterval(()=>{},1e3)'\` RSS / PSS (MB), CPU (%) | ${mb(bi.mem.rssKb)} / ${mb(bi.mem.pssKb)}, ${bi.cpuPct.toFixed(2)} | | | | |`,
      `| host process creations while idle (per s; each exec/exit is a discovery read) | ${forksPerSec.toFixed(1)} | | | | |`,
      `| idle wakeups (context switches per s, all threads) | ${ai.wakeupsPerSec.toFixed(0)} | ${ni.wakeupsPerSec.toFixed(0)} | ${(ai.wakeupsPerSec / Math.max(ni.wakeupsPerSec, 0.001)).toFixed(1)} | | |`,
      `| load: requests/s (wrk) / spans/s (agent) | ${achieved.toFixed(0)} / ${spansPerSec.toFixed(0)} | | | ~${TARGET_RPS} | |`,
      `| load: peak RSS (MB) | ${mb(al.peak.rssKb)} (w/o ring buffer ${mb(noRb(al.peak))}, PSS ${mb(al.peak.pssKb)}) | | | ≤ ${BUDGET.loadRssMb} | ${verdict(al.peak.rssKb / MB <= BUDGET.loadRssMb)} |`,
      `| load: HTTP capture suspensions (agent.ebpf.http.overload) | ${suspensions}${suspensionReasons ? ` (${suspensionReasons})` : ''} | | | 0 | ${suspensions ? '**suspended**' : 'none'} |`,
      `| load: CPU (% of a core) | ${al.cpuPct.toFixed(1)} (${(cpuPerSpanPctSec * 1000).toFixed(2)}% per 1k spans/s) | | | | |`,
    );
  } finally {
    for (const p of procs) await stop(p);
    rmSync(dir, { recursive: true, force: true });
  }
  const cpus = spawnSync('nproc').stdout.toString().trim();
  const md = `${lines.join('\n')}\n\n${cpus} cores; any other work on the host (see "foreign spans traced while idle") makes figures noisy.`;
  console.log(md);
  writeBenchSection('budgets', md);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
