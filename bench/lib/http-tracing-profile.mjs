// Where the agent's CPU goes while it traces nginx at a fixed rate: a diagnostic for bench:http-tracing, not a
// benchmark. Runs the same agent process (bench/lib/http-tracing-agent.mjs on dist/, server traced, wrk excluded)
// with the V8 flags `telegen run` uses (RUNTIME_FLAGS) and extra Node flags (PROFILE_NODE_FLAGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" or "--trace-gc"), and
// prints for an off window and an on window: agent CPU per request (µs), CPU per thread (main, V8 workers, the
// ring-buffer poll thread...), ring-buffer deliveries and HTTP events per second, context switches and minor page
// faults per second. SETTLE=10: each window is measured after the same load ran that many seconds in the same
// state (as bench:http-tracing does). PERF_EVENT=page-faults (or a uprobe, e.g. probe_node:x): perf records that
// event instead of CPU samples.
// HEAP_FILE=x.heapprofile (with PROFILE_FILE): sampled allocations of the on window, collected ones included.
// PROFILE_FILE=x.cpuprofile: a V8 CPU profile (200 µs sampling) of the on window only (wall time in JS: a
// thread preempted by the workload inflates what it was running). PERF_FILE=x.data: `perf record -g` of the agent
// during the on window (CPU time; with PROFILE_NODE_FLAGS=--perf-basic-prof for JS frames). BATCH_DELAY=100ms:
// agent.ebpf.http.batch_delay of the agent.
//   npx tsx bench/lib/http-tracing-profile.mjs [rate=1000] [seconds=10]
// Run it under the bench lock (flock /tmp/telegen-bench.lock ...): it needs the same quiet CPU as the bench.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startNginx } from './nginx.ts';
import { wrkLoader } from './wrk.ts';
import { freePort, waitForPort } from '../../test/tracing/helpers.ts';
import { RUNTIME_FLAGS } from '../../dist/cli/runtime-flags.js';

const RATE = Number(process.argv[2] ?? 1000);
const SECONDS = Number(process.argv[3] ?? 10);
const CONNECTIONS = 16;
const CLK_TCK = 100;

/** CPU ticks and context switches per thread of `pid`, by thread name and id. */
function threadTicks(pid) {
  const out = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      const cs = [...status.matchAll(/ctxt_switches:\s+(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
      const o = (out[`${name}/${tid === String(pid) ? 'main' : tid}`] ??= { ticks: 0, cs: 0, flt: 0 });
      o.ticks += Number(f[11]) + Number(f[12]);
      o.flt += Number(f[7]);
      o.cs += cs;
    } catch { /* thread gone */ }
  }
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'tg-prof-http-'));
const port = await freePort();
const nginx = startNginx(dir, port);
const url = `http://127.0.0.1:${port}/index.html`;
const wrk = wrkLoader(url, dir, CONNECTIONS);
const flags = (process.env.PROFILE_NODE_FLAGS ?? '').split(' ').filter(Boolean);
const agent = spawn(process.execPath, [...RUNTIME_FLAGS, ...flags, join(import.meta.dirname, 'http-tracing-agent.mjs'), JSON.stringify({
  port, instrument: [{ exe_path: '*/nginx', open_ports: String(port) }], exclude: [{ exe_path: '*/wrk' }], countBatches: true,
  profileFile: process.env.PROFILE_FILE, heapFile: process.env.HEAP_FILE, ...(process.env.BATCH_DELAY ? { batchDelay: process.env.BATCH_DELAY } : {}),
})], { stdio: ['pipe', 'pipe', 'inherit'] });
const replies = [];
createInterface({ input: agent.stdout }).on('line', (l) => {
  if (l.startsWith('{')) replies.shift()?.(JSON.parse(l));
  else console.log(l); // --trace-gc and the like
});
const command = (c) => new Promise((resolve) => {
  replies.push(resolve);
  agent.stdin.write(`${c}\n`);
});

async function window(label) {
  if (process.env.SETTLE) await wrk(RATE, Number(process.env.SETTLE));
  const s0 = await command('stats');
  const t0 = threadTicks(agent.pid);
  const r = await wrk(RATE, SECONDS);
  await new Promise((res) => setTimeout(res, 1500)); // delivery_latency + batch_delay
  const s1 = await command('stats');
  const t1 = threadTicks(agent.pid);
  const secs = r.requests / r.rps;
  const threads = Object.entries(t1).filter(([name, v]) => v.ticks - (t0[name]?.ticks ?? 0) > 0 || name.endsWith('main')).map(([name, v]) => `${name} ${(((v.ticks - (t0[name]?.ticks ?? 0)) * 1e6) / CLK_TCK / r.requests).toFixed(2)} µs/req, ${((v.cs - (t0[name]?.cs ?? 0)) / secs).toFixed(0)} cs/s, ${((v.flt - (t0[name]?.flt ?? 0)) / secs).toFixed(0)} faults/s`);
  console.log(`${label}: ${(r.requests / secs).toFixed(0)} req/s, agent ${((s1.cpuUs - s0.cpuUs) / r.requests).toFixed(2)} µs/req `
    + `(${((s1.cpuUs - s0.cpuUs) / 1e4 / secs).toFixed(2)}% of a core; system ${((s1.sysUs - s0.sysUs) / r.requests).toFixed(2)} µs/req), spans ${s1.spansOnPort - s0.spansOnPort}, `
    + `deliveries ${((s1.batches - s0.batches) / secs).toFixed(1)}/s, events ${((s1.events - s0.events) / r.requests).toFixed(2)}/req\n  ${threads.join('\n  ')}`);
  return (s1.cpuUs - s0.cpuUs) / r.requests;
}

// Never hold the bench lock for long: a stuck run is killed.
const watchdog = setTimeout(() => {
  console.error('profile run stuck: killing it');
  agent.kill('SIGKILL');
  nginx.kill('SIGKILL');
  process.exit(1);
}, (SECONDS * 4 + 60) * 1000);
agent.once('exit', (code) => {
  if (code === 0) return;
  console.error(`agent exited (${code})`);
  nginx.kill('SIGKILL');
  process.exit(1);
});
try {
  await waitForPort(port);
  await command('on');
  await wrk(0, 2); // warm the JIT as the bench does
  await command('off');
  const off = await window('off');
  await command('on');
  if (process.env.PROFILE_FILE) await command('profstart');
  // perf's view (CPU time, not wall time in JS; needs PROFILE_NODE_FLAGS=--perf-basic-prof for JS names).
  const perf = process.env.PERF_FILE
    ? spawn('perf', ['record', ...(process.env.PERF_EVENT ? ['-e', process.env.PERF_EVENT] : ['-F', process.env.PERF_FREQ ?? '1999']), '-g', '-p', String(agent.pid), '-o', process.env.PERF_FILE], { stdio: 'ignore' })
    : undefined;
  const on = await window('on ');
  if (perf) {
    perf.kill('SIGINT');
    await new Promise((res) => perf.once('close', res));
  }
  if (process.env.PROFILE_FILE) await command('profstop');
  console.log(`on - off: ${(on - off).toFixed(2)} µs per request`);
} finally {
  agent.stdin.end();
  await new Promise((res) => agent.once('close', res));
  nginx.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  clearTimeout(watchdog);
}
