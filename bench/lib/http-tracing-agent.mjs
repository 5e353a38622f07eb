// The agent side of `npm run bench:http-tracing`, run as its own process from the compiled code in dist/ (what
// ships: no tsx transpilation in the measured process). It holds the slice of the agent that HTTP tracing
// needs — eBPF core, discovery, HTTP tracer — with a sink that counts and forgets what is pushed (the export
// pipeline's cost is bench:export's). Driven over stdin, one command per line; answers one JSON line each:
//   on     attach the tracer                 → {"ok":true,"programs":[ids of its BPF programs]}
//   off    detach it                         → {"ok":true}
//   profstart / profstop   a CPU profile of what ran in between, written to opts.profileFile (and opts.heapFile)
//   stats  → {"cpuUs": process CPU so far (user+system, every thread), "spans": n, "spansOnPort": n, "lost": n,
//             "shed": exchanges the kernel did not capture because the agent was behind, "events": ring-buffer
//             records received, "batches": deliveries with HTTP events (with countBatches), "suspendedSec" and
//             "suspensions": time and times capture was suspended under overload (agent.ebpf.http.overload)}
// argv[2]: JSON { port, instrument?: [...], exclude?: [...] (discovery rules), nice?, shedPercent?, maxExchangesPerCpu?,
//   countBatches?, profileFile?, heapFile? (with profstart/stop: sampled allocations, collected ones included), batchDelay? (agent.ebpf.http.batch_delay), overload? (false: agent.ebpf.http.overload.enabled
//   off) }.
/* global structuredClone */
import { spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import pino from 'pino';
import { defaultConfig } from '../../dist/config/load.js';
import { SelfMetrics } from '../../dist/telemetry/self-metrics.js';
import { createEbpfCore } from '../../dist/ebpf/ebpf-subsystem.js';
import { createDiscovery } from '../../dist/discovery/discovery.js';
import { createHttpTracer } from '../../dist/tracing/http-tracer.js';
import { lowerCpuPriority } from '../../dist/util/cpu-priority.js';
import { EventKind } from '../../dist/ebpf/core.js';

const opts = JSON.parse(process.argv[2]);
const config = structuredClone(defaultConfig());
config.agent.ebpf.network.enabled = false;
// Discovery's periodic /proc rescan would land at random in one window or the other; it is not the tracer's cost
// (exec/exit events from eBPF still keep it current).
config.discovery.scan_interval = '1h';
config.discovery.instrument = opts.instrument ?? [];
config.discovery.exclude = opts.exclude ?? [];
if (opts.nice !== undefined) config.agent.nice = opts.nice;
if (opts.maxExchangesPerCpu !== undefined) config.agent.ebpf.http.max_exchanges_per_cpu = opts.maxExchangesPerCpu;
if (opts.batchDelay !== undefined) config.agent.ebpf.http.batch_delay = opts.batchDelay;
if (opts.overload === false) config.agent.ebpf.http.overload.enabled = false;
if (opts.shedPercent !== undefined) config.agent.ebpf.http.shed_backlog_percent = opts.shedPercent;
// As `telegen run` does: every agent thread yields the CPU to the workload (agent.nice).
lowerCpuPriority(config.agent.nice);
// Experiment knob: SCHED_IDLE for every thread (runs only on otherwise idle CPUs), via util-linux chrt.
if (opts.schedIdle) spawnSync('chrt', ['--idle', '-a', '-p', '0', String(process.pid)]);

let spans = 0;
let spansOnPort = 0;
const ctx = {
  config, logger: pino({ level: 'silent' }), metrics: new SelfMetrics(), resource: { attributes: { 'host.name': 'bench' } },
  sink: { push: (_signal, items) => items.length },
};
const ebpf = createEbpfCore(ctx, { builtinTracers: false });
const discovery = createDiscovery(ctx, { processEvents: ebpf });
const tracer = createHttpTracer(ctx, { ebpf, catalog: discovery });
tracer.onSpan((s) => {
  spans++;
  if (s.attributes['server.port'] === opts.port) spansOnPort++;
});
await ebpf.start();
await discovery.start();
// Diagnostics (bench/lib/http-tracing-profile.mjs): deliveries that carried HTTP events.
let batches = 0;
let profiler;
if (opts.countBatches) ebpf.subscribe(EventKind.HTTP, () => batches++);

const reply = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const commands = {
  async on() {
    await tracer.start();
    const programs = ebpf.status().programs.filter((p) => p.name.startsWith('trace_http')).map((p) => p.id);
    return { ok: true, programs };
  },
  async off() {
    await tracer.stop();
    return { ok: true };
  },
  // Diagnostics: a CPU profile of what runs between the two commands (bench/lib/http-tracing-profile.mjs).
  async profstart() {
    profiler = new Session();
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.setSamplingInterval', { interval: 200 });
    await profiler.post('Profiler.start');
    // Every allocation sampled, also what GC has collected since (what the allocation rate, thus GC, is made of).
    if (opts.heapFile) {
      await profiler.post('HeapProfiler.startSampling', {
        samplingInterval: 16384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true,
      });
    }
    return { ok: true };
  },
  async profstop() {
    const { profile } = await profiler.post('Profiler.stop');
    writeFileSync(opts.profileFile ?? 'agent.cpuprofile', JSON.stringify(profile));
    if (opts.heapFile) writeFileSync(opts.heapFile, JSON.stringify((await profiler.post('HeapProfiler.stopSampling')).profile));
    profiler.disconnect();
    return { ok: true };
  },
  async stats() {
    const cpu = process.cpuUsage();
    const st = tracer.status();
    return {
      cpuUs: cpu.user + cpu.system, sysUs: cpu.system, spans, spansOnPort, lost: ebpf.eventsLost(), shed: st.shed?.exchanges ?? 0,
      events: ebpf.dispatchCounters().received, batches,
      suspendedSec: st.overload.suspended_seconds, suspensions: st.overload.suspensions,
    };
  },
};
for await (const line of createInterface({ input: process.stdin })) {
  const cmd = commands[line.trim()];
  if (!cmd) {
    reply({ error: `unknown command ${line}` });
    continue;
  }
  reply(await cmd());
}
await tracer.stop();
await discovery.stop();
await ebpf.stop();
process.exit(0);
