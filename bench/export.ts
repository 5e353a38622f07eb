// bench:export — spans encoded and sent per CPU-second of the exporting process, Telegen vs the OpenTelemetry
// JS SDK on the same spans, in the same run: encoding alone (Telegen's encoder vs the SDK's
// ProtobufTraceSerializer), and end to end to a local sink (separate process) over OTLP/HTTP protobuf and
// OTLP/gRPC, with the same compression and the same batch size on both sides; Telegen with its persistent
// queue on (default) and off. Every measured exporter runs in its own child process (bench/lib/export-child.ts)
// holding only its own prepared spans; each figure is the median of ROUNDS runs, the variants alternating.
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { GZIP_LEVEL } from '../src/export/settings.js';
import { encodeTraces } from '../src/export/proto/encode-otlp.js';
import { makeSpans } from './lib/bench-spans.js';
import { BENCH_RESOURCE, runBatches, type ChildRun, type ChildSpec, type Compression, type Protocol } from './lib/export-child.js';
import { writeBenchSection } from './lib/report.js';

const N = Number(process.env.BENCH_SPANS ?? 100_000);
/** Distinct spans each child prepares (and sends in turn): small, so a full GC has little to mark. */
const FIXTURE = Number(process.env.BENCH_FIXTURE ?? 16_384);
/** 512: the default of both Telegen (otlp.traces.batch_size) and the SDK's BatchSpanProcessor (maxExportBatchSize). */
const BATCH = 512;
/** End to end at these batch sizes, the same on both sides. */
const E2E_BATCHES = (process.env.BENCH_BATCHES ?? '512,2048').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
/** Restrict the end-to-end rows (for a quick look at one transport); the docs are only rewritten with all of them. */
const PROTOCOLS = (process.env.BENCH_PROTOCOLS ?? 'http,grpc').split(',') as Protocol[];
const COMPRESSIONS = (process.env.BENCH_COMPRESSIONS ?? 'none,gzip').split(',') as Compression[];
/** The gRPC sink's HTTP/2 receive window (bench/lib/otlp-sink.ts), for both sides. */
const H2_WINDOW = Number(process.env.BENCH_H2_WINDOW ?? 1024 * 1024);

// The sink, in its own process.
const sink = fork(join(import.meta.dirname, 'lib/otlp-sink.ts'), {
  execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'inherit', 'ipc'], env: { ...process.env, SINK_H2_WINDOW: String(H2_WINDOW) },
});
const ports = await new Promise<{ http: number; grpc: number }>((r) => sink.stdout!.once('data', (d: Buffer) => r(JSON.parse(d.toString()))));

interface Child { run(op: 'run' | 'encode'): Promise<ChildRun>; close(): void }
async function child(spec: Omit<ChildSpec, 'ports' | 'spans' | 'fixture'>): Promise<Child> {
  const full: ChildSpec = { ...spec, ports, spans: N, fixture: FIXTURE };
  const cp: ChildProcess = fork(join(import.meta.dirname, 'lib/export-child.ts'), {
    execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, BENCH_EXPORT_CHILD: JSON.stringify(full) },
  });
  const next = () => new Promise<{ ready?: true; ok?: ChildRun; error?: string }>((res, rej) => {
    const onExit = (code: number | null) => rej(new Error(`export child ${spec.role} exited (${code})`));
    cp.once('exit', onExit);
    cp.once('message', (m) => { cp.off('exit', onExit); res(m as { ok?: ChildRun; error?: string }); });
  });
  await next();
  return {
    async run(op) {
      const reply = next();
      cp.send({ op });
      const m = await reply;
      if (!m.ok) throw new Error(`export child ${spec.role}: ${m.error}`);
      return m.ok;
    },
    close: () => { cp.kill(); },
  };
}

const median = (runs: ChildRun[]): ChildRun => [...runs].sort((a, b) => a.cpu - b.cpu)[Math.floor(runs.length / 2)]!;
const rate = (cpu: number) => Math.round(N / cpu);
const fmt = (r: { cpu: number }) => rate(r.cpu).toLocaleString('en');
const ratio = (ours: { cpu: number }, theirs: { cpu: number }) => `**${(theirs.cpu / ours.cpu).toFixed(1)}×**`;
const runList = (runs: ChildRun[]) => runs.map((r) => `${Math.round(rate(r.cpu) / 1000)}k${'*'.repeat(r.fullGcs)}`).join(' ');

/**
 * Each variant in its own process, a warm-up run of each, then ROUNDS measured rounds in rotating order (so
 * that neither side always runs right after the other).
 */
async function measure(specs: Array<Omit<ChildSpec, 'ports' | 'spans' | 'fixture'>>, op: 'run' | 'encode', warmups = 1): Promise<ChildRun[][]> {
  const children = await Promise.all(specs.map((s) => child(s)));
  try {
    for (let w = 0; w < warmups; w++) for (const c of children) await c.run(op);
    const runs: ChildRun[][] = children.map(() => []);
    for (let i = 0; i < ROUNDS; i++) {
      for (let k = 0; k < children.length; k++) {
        const j = (i + k) % children.length;
        runs[j]!.push(await children[j]!.run(op));
      }
    }
    return runs;
  } finally {
    for (const c of children) c.close();
  }
}

// Encoding alone.
const [encOursRuns, encSdkRuns] = await measure([
  { role: 'telegen', protocol: 'http', compression: 'none', persistent: false, size: BATCH },
  { role: 'sdk', protocol: 'http', compression: 'none', persistent: false, size: BATCH },
], 'encode', 2) as [ChildRun[], ChildRun[]];
const encOurs = median(encOursRuns);
const encSdk = median(encSdkRuns);
console.error(`encode: ${runList(encOursRuns)} · ${runList(encSdkRuns)}`);

// What gzip costs on these requests, at Telegen's level and at zlib's default (the SDK's).
const sample = runBatches(makeSpans(40 * BATCH, BENCH_RESOURCE), BATCH, 40 * BATCH).map((b) => encodeTraces(b));
const gz = (level: number) => {
  const c0 = process.cpuUsage();
  const out = sample.reduce((n, b) => n + gzipSync(b, { level }).length, 0);
  const c = process.cpuUsage(c0);
  return { usPerBatch: (c.user + c.system) / sample.length, ratio: out / sample.reduce((n, b) => n + b.length, 0) };
};
gz(GZIP_LEVEL);
const gzFast = gz(GZIP_LEVEL);
const gzDefault = gz(6);

const rows: string[] = [];
/** Every measured run of each row: spans/CPU-s, one * per full GC inside the run. */
const spread: string[] = [];
rows.push(`| encode only (protobuf) | ${BATCH} | — | ${fmt(encOurs)} | — | ${fmt(encSdk)} (ProtobufTraceSerializer) | ${ratio(encOurs, encSdk)} | — |`);
for (const size of E2E_BATCHES) {
  for (const protocol of PROTOCOLS) {
    for (const compression of COMPRESSIONS) {
      const runs = await measure([
        { role: 'telegen', protocol, compression, persistent: true, size },
        { role: 'telegen', protocol, compression, persistent: false, size },
        { role: 'sdk', protocol, compression, persistent: false, size },
      ], 'run');
      const [a, b, c] = runs.map(median) as [ChildRun, ChildRun, ChildRun];
      spread.push(`${protocol === 'http' ? 'HTTP' : 'gRPC'} ${size} ${compression}: ${runs.map(runList).join(' · ')}`);
      console.error(spread.at(-1));
      const name = protocol === 'http' ? 'OTLP/HTTP protobuf' : 'OTLP/gRPC';
      const peerName = protocol === 'http' ? 'exporter-trace-otlp-proto' : 'exporter-trace-otlp-grpc';
      rows.push(`| end to end, ${name} | ${size} | ${compression} | ${fmt(a)} | ${fmt(b)} | ${fmt(c)} (${peerName}) | ${ratio(a, c)} | ${ratio(b, c)} |`);
      console.error(rows.at(-1));
    }
  }
}
sink.kill();

const md = `${N.toLocaleString('en')} HTTP server spans (7 attributes, one resource) per run, the same batch size on both sides, a local
sink in a separate process that answers without decoding. Figures are spans per CPU-second of the exporting process: user +
system of \`process.cpuUsage()\`, which includes its GC, JIT and libuv threads (gzip). Telegen vs the OpenTelemetry JS SDK
exporters on the same spans in the same run, with the same compression setting; ratio = SDK CPU time / Telegen CPU time. Each
figure is the median of ${ROUNDS} runs after a warm-up run, the variants in rotating order.

Method (changed in issue #4's third pass; earlier figures in git history were taken with one process holding everything):
- **One process per measured exporter** (\`bench/lib/export-child.ts\`): for every row, Telegen with the persistent queue,
  Telegen in memory and the SDK exporter each run in a child process of their own that holds only its own prepared input:
  ${FIXTURE.toLocaleString('en')} distinct spans (made by the same generator; the SDK's child converts them to \`ReadableSpan\`s), sent in turn
  until ${N.toLocaleString('en')} have gone, cut into the same batches in the same order on both sides. A GC in one side's run thus
  only ever marks that side's own heap (before, one process held 200k prepared spans of both kinds, ~190 MB, and whichever
  run a full GC landed in paid for marking all of it).
- **Steady state, no forced GC**: each child repeats the same run; a run's CPU includes the GC work its allocations cause,
  whenever V8 does it (scavenges and full GCs are counted below). No \`gc()\` is forced around a run: a forced full GC shrinks
  V8's heap limits, so the next run meets several more full GCs than a process exporting continuously would (measured: with
  a forced GC before and after every run, both sides lose 25–35 %, the SDK's child then runs 7–9 full GCs a run).
  \`BENCH_GC=pre|both\` restores the forced GCs for comparison.
- **The gRPC sink's HTTP/2 window** is ${H2_WINDOW ? `${(H2_WINDOW / 1024).toLocaleString('en')} KiB per stream and per connection` : 'HTTP/2\'s default 64 KiB'} (\`BENCH_H2_WINDOW\`, default 1 MiB):
  a grpc-js server keeps HTTP/2's initial 64 KiB window, so each 151 KiB message waits for window updates three times; the
  OpenTelemetry Collector (grpc-go) grows its windows by BDP probing (up to 16 MiB) under a stream of large messages. The same
  sink serves both sides; it helps the SDK's exporter more than Telegen's (measured at 512/none: SDK +25–30 %, Telegen +10 %).
- The OTLP/HTTP sink is Node's HTTP/1.1 server, unchanged.

What each side does:
- Telegen end to end starts at \`push\`: in-memory queue, batching, encoding, then either the persistent segment log (default:
  each batch appended with its CRC before it counts as accepted — compressed first with gzip —, read back from the
  page cache to be sent, deleted after the ack) or, in the "in memory" column, \`queue.persistent: false\`.
- The SDK side starts at \`exporter.export\` (its span processor's queue is not counted). One request in flight on both sides.
- The machine may be shared with other work: read ±20 % on any single figure (every run is listed below).

| what | batch | compression | Telegen, persistent queue | Telegen, in memory | SDK | ratio (persistent) | ratio (in memory) |
|---|---|---|---|---|---|---|---|
${rows.join('\n')}

Every measured run, in thousands of spans/CPU-s, one \`*\` per full GC that ran inside it (Telegen persistent · Telegen in memory · SDK):
${spread.map((l) => `- ${l}`).join('\n')}

gzip: Telegen compresses each batch once, at level ${GZIP_LEVEL}, before it is queued, for both protocols (OTLP/gRPC: grpc-js has no
setting for the level, so its compression filter is given a path for messages compressed beforehand, src/export/otlp-grpc/precompressed.ts);
the SDK's exporters use zlib's default level (6), OTLP/gRPC inside grpc-js. Measured alone on these requests, level ${GZIP_LEVEL} costs ${gzFast.usPerBatch.toFixed(0)} µs of CPU per ${BATCH}-span batch for ${(gzFast.ratio * 100).toFixed(1)} % of
the size, level 6 ${gzDefault.usPerBatch.toFixed(0)} µs for ${(gzDefault.ratio * 100).toFixed(1)} %.

Goals: ≥ 300k spans/s per core encoding; ≥ 3× the SDK end to end. See docs/export.md ("Performance") for where the time goes.`;
console.log(md);
if (process.env.BENCH_PROTOCOLS || process.env.BENCH_COMPRESSIONS) console.error('partial run (BENCH_PROTOCOLS/BENCH_COMPRESSIONS): docs/benchmarks.md left as it is');
else writeBenchSection('export', md);
