// Issue #4's outage test through the whole agent (`node bin/telegen.js run`), with the agent's own eBPF HTTP
// tracer producing the items: a real HTTP server selected by `discovery.instrument`, numbered requests
// (`/req/<n>`), spans counted by `url.path` at a real OTLP receiver (OTLP/HTTP with gzip, and OTLP/gRPC).
// Steady load with the receiver up → receiver stopped while the load goes on → the spans of the outage are proven
// on disk (the persistent segment log, read without touching it) and /status/export agrees → SIGKILL → the agent
// restarts with the same config, replays its queue, takes more load while the receiver is still down → receiver
// back → every request made while an agent was up and attached has ≥ 1 span, none lost, duplicates counted, and
// the agents' own "exported" counters add up to exactly the unique spans received (each span acknowledged once).
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import { stringify } from 'yaml';
import { msg, spawnAgent, tempConfig, type RunningAgent } from '../helpers/spawn-agent.js';
import { freePort } from '../helpers/net.js';
import { bpfSkipReason, waitForPort } from '../tracing/helpers.js';
import { exportStatus, metricValue } from './helpers/agent-api.js';
import { waitFor } from './helpers/fixtures.js';
import { getOnce, startLoad, type LoadRun } from './helpers/http-load.js';
import { startGrpcReceiver, startHttpReceiver, type Receiver } from './helpers/receiver.js';
import { persistedRecords } from './helpers/segment-log-reader.js';

const built = existsSync(join(process.cwd(), 'dist', 'cli', 'main.js'));
const skip = bpfSkipReason() ?? (built ? undefined : 'dist/ not built (bash scripts/build.sh)');
if (skip) console.log(`# skipping the agent outage test: ${skip}`);

interface SpanSeen { id: string; path: string }

/** Every span of the decoded export requests: its span id (hex) and url.path. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function spansOf(bodies: any[]): SpanSeen[] {
  const out: SpanSeen[] = [];
  for (const b of bodies) {
    for (const rs of b.resourceSpans ?? []) {
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          // eslint-disable-next-line @typescript-eslint/no-explicit-any
          const path = (s.attributes ?? []).find((kv: any) => kv.key === 'url.path')?.value?.stringValue as string | undefined;
          out.push({ id: Buffer.from(s.spanId).toString('hex'), path: path ?? '' });
        }
      }
    }
  }
  return out;
}

const reqId = (path: string): number | undefined => (/^\/req\/(\d+)$/.exec(path) ? Number(path.slice(5)) : undefined);

describe('outage through the real agent: receiver down, SIGKILL, restart, receiver back', { skip }, () => {
  const agents: RunningAgent[] = [];
  const receivers: Receiver[] = [];
  const loads: LoadRun[] = [];
  const servers: ChildProcess[] = [];
  const dirs: string[] = [];
  after(async () => {
    for (const l of loads) await l.stop();
    for (const a of agents) a.kill('SIGKILL');
    await Promise.all(agents.map((a) => a.exited));
    for (const s of servers) if (s.exitCode === null && s.signalCode === null) s.kill('SIGKILL');
    for (const r of receivers) await r.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const scenario = (protocol: 'http' | 'grpc') => async (t: TestContext) => {
    const t0 = Date.now();
    const startReceiver = protocol === 'http' ? startHttpReceiver : startGrpcReceiver;
    const rx1 = await startReceiver();
    const rxReceivers = [rx1];
    receivers.push(rx1);
    const rxPort = rx1.port;
    const serverPort = await freePort();
    const server = spawn(process.execPath, [join(import.meta.dirname, 'helpers', 'numbered-server.mjs'), String(serverPort)], { stdio: ['ignore', 'ignore', 'inherit'] });
    servers.push(server);
    await waitForPort(serverPort);

    const cfg = tempConfig(stringify({
      self_telemetry: { listen: '127.0.0.1:0' },
      shutdown_timeout: '3s',
      otlp: {
        endpoint: protocol === 'http' ? `http://127.0.0.1:${rxPort}` : `127.0.0.1:${rxPort}`, protocol, insecure: true, flush_interval: '100ms', timeout: '2s',
        retry: { initial_interval: '100ms', max_interval: '300ms' },
        traces: { batch_size: 25 }, metrics: { enabled: false }, logs: { enabled: false },
      },
      queue: { persistent: true, directory: '$DIR/queue' },
      file_exporter: { enabled: false },
      agent: {
        ebpf: { enabled: true, required: true, network: { enabled: false }, http: { metrics_interval: '1h' } },
        host_metrics: { enabled: false },
      },
      // Exactly one traced process: the server (the test process — client and receiver — is never traced).
      discovery: { scan_interval: '500ms', instrument: [{ open_ports: String(serverPort) }] },
    }));
    dirs.push(cfg.dir);
    const queueDir = join(cfg.dir, 'queue', 'traces');
    const received = () => spansOf(rxReceivers.flatMap((r) => r.received).map((r) => r.body));
    const onDisk = () => persistedRecords(queueDir, 'traces');

    /** Start an agent; resolves once it is up and its tracer demonstrably produces spans of the server. */
    const startAgent = async (tag: string, traced: (base: string) => Promise<boolean>) => {
      const agent = spawnAgent(['run', '-c', cfg.file], { env: { PATH: process.env.PATH, HOME: process.env.HOME } });
      agents.push(agent);
      const base = (await agent.waitFor(msg('api listening'), 30_000)).address as string;
      await agent.waitFor(msg('telegen started'), 30_000);
      // Attached = a request made now becomes a span. Probes are not counted: the ones before attachment have none.
      const end = Date.now() + 20_000;
      for (let k = 0; !(await traced(base)); k++) {
        if (Date.now() > end) throw new Error(`agent ${tag}: no span for the probes after 20 s`);
        await getOnce(serverPort, `/probe/${tag}${k}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      return { agent, base };
    };

    // --- Agent A, receiver up: steady load is delivered. ---
    const a = await startAgent('a', async () => received().some((s) => s.path.startsWith('/probe/a')));
    const tReadyA = Date.now();
    const loadA = startLoad(serverPort, '/req/', 0);
    loads.push(loadA);
    await waitFor(() => received().filter((s) => reqId(s.path) !== undefined).length >= 30, 15_000, 'steady deliveries before the outage');

    // --- Receiver stopped mid-request (it took one batch and dies before answering); the load goes on: these
    // spans can only be in A's queue. ---
    rx1.replies.push({ holdMs: 60_000 });
    await waitFor(() => rx1.received.some((r) => r.held), 10_000, 'a batch taken but not yet acknowledged');
    await rx1.close();
    const atClose = loadA.completed();
    await waitFor(() => loadA.completed() >= atClose + 150, 15_000, 'load during the outage');
    const idsA = await loadA.stop();

    // Wait until every request of the window is delivered or persisted (complete records on disk after the ack
    // cursor), and the agent's own queue size says the same (nothing left only in memory). Returns what is on disk.
    const pathsIn = (spans: SpanSeen[]) => new Set(spans.map((s) => s.path));
    const persisted = async (tag: string, base: string, ids: number[]): Promise<number> => {
      const by = Date.now() + 15_000;
      for (;;) {
        const disk = onDisk();
        const seen = new Set([...pathsIn(received()), ...pathsIn(spansOf(disk.map((r) => r.body)))]);
        const onDiskItems = disk.reduce((n, r) => n + r.items, 0);
        const size = (await exportStatus(base)).queues.traces!.size;
        if (ids.every((id) => seen.has(`/req/${id}`)) && size === onDiskItems) return onDiskItems;
        if (Date.now() > by) {
          const missing = ids.filter((id) => !seen.has(`/req/${id}`));
          assert.fail(`agent ${tag}: ${missing.length} of ${ids.length} requests neither delivered nor persisted (e.g. ${missing.slice(0, 5).join(',')}); queue size ${size}, on disk ${onDiskItems}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await persisted('A', a.base, idsA);
    const outageOnlyOnDisk = idsA.filter((id) => !pathsIn(received()).has(`/req/${id}`)).length;
    assert.ok(outageOnlyOnDisk >= 100, `an outage backlog exists only on disk (${outageOnlyOnDisk} requests)`);

    // --- The receiver flaps: back for three batches, then gone again mid-request. A segment now holds
    // acknowledged and unacknowledged batches, so what survives the kill depends on the ack cursor. ---
    const flap = await startReceiver({ port: rxPort });
    receivers.push(flap);
    rxReceivers.push(flap);
    flap.replies.push({}, {}, {}, { holdMs: 60_000 });
    await waitFor(() => flap.received.some((r) => r.held), 15_000, 'three batches acknowledged and one taken during the flap');
    await flap.close();
    const pending = await persisted('A', a.base, idsA);
    assert.ok(pending < outageOnlyOnDisk, `the flap acknowledged part of the backlog (${pending} left of ${outageOnlyOnDisk})`);
    const exportedA = await metricValue(a.base, 'telegen_spans_exported_total');
    assert.equal((await exportStatus(a.base)).queues.traces!.exported, exportedA, '/status/export and /metrics agree');

    // --- SIGKILL mid-outage: no chance to flush or write anything. ---
    a.agent.kill('SIGKILL');
    await a.agent.exited;
    const tKilled = Date.now();

    // --- Agent B, same config, receiver still down: it recovers the queue and takes more load. ---
    const b = await startAgent('b', async (base) => (await metricValue(base, 'telegen_spans_collected_total', 'signal_type="traces"')) > 0);
    const replay = await b.agent.waitFor((l) => msg('unacknowledged batches will be sent first')(l) && l.signal === 'traces', 5000);
    assert.equal(replay.items, pending, 'the restarted agent recovered exactly what was on disk at the kill');
    assert.equal(replay.corruptRecords, 0);
    const loadB = startLoad(serverPort, '/req/', 1_000_000);
    loads.push(loadB);
    await waitFor(() => loadB.completed() >= 100, 15_000, 'load on the restarted agent');
    const idsB = await loadB.stop();
    assert.ok(await persisted('B', b.base, idsB) >= pending + idsB.length, 'agent B holds the replayed backlog and its own spans');

    // --- Receiver back on the same port. ---
    const rx2 = await startReceiver({ port: rxPort });
    receivers.push(rx2);
    rxReceivers.push(rx2);
    const tBack = Date.now();
    const expected = [...idsA, ...idsB];
    // Everything sent and acknowledged: B's queue is empty (no request is made any more, so it stays empty) and
    // its counters are final. What is missing at the receiver now is lost for good.
    const drainedBy = Date.now() + 30_000;
    while ((await exportStatus(b.base)).queues.traces!.size > 0) {
      assert.ok(Date.now() < drainedBy, `agent B drains its queue once the receiver is back: ${JSON.stringify(await exportStatus(b.base))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const tDelivered = Date.now();
    const all = received();
    const reqSpans = all.filter((s) => reqId(s.path) !== undefined);
    const uniqueIds = new Set(all.map((s) => s.id));
    const seenReq = new Set(reqSpans.map((s) => s.path));
    const lost = expected.filter((id) => !seenReq.has(`/req/${id}`)).length;
    const duplicates = all.length - uniqueIds.size;
    const times = new Map<string, number>();
    for (const s of all) times.set(s.id, (times.get(s.id) ?? 0) + 1);
    const duplicated = [...times].filter(([, n]) => n > 1).map(([id]) => id).sort();
    const held = spansOf(rxReceivers.flatMap((rx) => rx.received).filter((r) => r.held).map((r) => r.body)).map((s) => s.id).sort();
    const exportedB = await metricValue(b.base, 'telegen_spans_exported_total');
    const statusB = (await exportStatus(b.base)).queues.traces!;
    t.diagnostic(`requests: agent A ${idsA.length} (${outageOnlyOnDisk} only on disk before the flap), agent B ${idsB.length}; ` +
      `persisted at kill ${pending} spans, replayed ${String(replay.items)} in ${String(replay.records)} batches; received ${all.length} spans, ` +
      `unique ${uniqueIds.size}, duplicates ${duplicates} (unanswered batches: ${held.length}), lost ${lost}; exported A ${exportedA} + B ${exportedB}`);
    t.diagnostic(`timings: A ready ${tReadyA - t0} ms, killed at ${tKilled - t0} ms, receiver back at ${tBack - t0} ms, all delivered at ${tDelivered - t0} ms`);

    assert.equal(lost, 0, `no request made while an agent was attached is lost (missing e.g. ${expected.filter((id) => !seenReq.has(`/req/${id}`)).slice(0, 10).join(',')})`);
    // No span is made up: every /req span answers a request the client completed in a counted window.
    const made = new Set(expected);
    assert.deepEqual(reqSpans.filter((s) => !made.has(reqId(s.path)!)).map((s) => s.path), []);
    // The duplicates are exactly the batches a receiver took without answering: unacknowledged, so still in the
    // queue, replayed after the restart and received again — once. (Batches the flap acknowledged are behind the
    // ack cursor and never sent again.)
    assert.ok(held.length > 0);
    assert.deepEqual(duplicated, held, 'the spans received twice are exactly those of the unanswered batches');
    assert.equal(duplicates, held.length);
    // Each span was acknowledged exactly once across both lifetimes: the agents' counters say how many unique
    // spans the receiver has, and duplicates = received − exported.
    assert.equal(exportedA + exportedB, uniqueIds.size, 'exported counters (A at the kill + B) = unique spans received');
    assert.equal(all.length - (exportedA + exportedB), duplicates);
    assert.ok(exportedB >= pending, `agent B exported its replayed backlog (${exportedB} ≥ ${pending})`);
    assert.equal(statusB.dropped, 0);
    assert.equal(statusB.exported, exportedB);
    // FIFO across the restart: the replayed backlog reaches the receiver before anything agent B traced itself.
    const afterBack = spansOf(rx2.received.map((r) => r.body)).map((s) => s.path);
    const fromA = new Set(idsA);
    const lastReplayed = Math.max(...afterBack.map((p, i) => (fromA.has(reqId(p) ?? -1) ? i : -1)));
    const firstNew = afterBack.findIndex((p) => p.startsWith('/probe/b') || (reqId(p) ?? 0) >= 1_000_000);
    assert.ok(lastReplayed >= 0 && firstNew > lastReplayed, `replayed spans first (last replayed at ${lastReplayed}, first new at ${firstNew})`);

    b.agent.kill('SIGTERM');
    assert.equal(await b.agent.exited, 0, 'the restarted agent stops cleanly');
  };

  const title = 'every traced request is delivered at least once; the restarted agent replays its queue first; exported counters = unique spans';
  it(`OTLP/HTTP (gzip): ${title}`, scenario('http'));
  it(`OTLP/gRPC: ${title}`, scenario('grpc'));
});
