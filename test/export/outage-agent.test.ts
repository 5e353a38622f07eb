// Issue #4's outage test through the whole agent (`node bin/telegen.js run`), with the agent's own eBPF HTTP
// tracer producing the items: a real HTTP server selected by `discovery.instrument`, numbered requests
// (`/req/<n>`), spans counted by `url.path` at a real OTLP/HTTP receiver.
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
import { after, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { msg, spawnAgent, tempConfig, type RunningAgent } from '../helpers/spawn-agent.js';
import { freePort } from '../helpers/net.js';
import { bpfSkipReason, waitForPort } from '../tracing/helpers.js';
import { exportStatus, metricValue } from './helpers/agent-api.js';
import { waitFor } from './helpers/fixtures.js';
import { getOnce, startLoad, type LoadRun } from './helpers/http-load.js';
import { startHttpReceiver, type Receiver } from './helpers/receiver.js';
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
  let server: ChildProcess | undefined;
  let dir = '';
  after(async () => {
    for (const l of loads) await l.stop();
    for (const a of agents) a.kill('SIGKILL');
    await Promise.all(agents.map((a) => a.exited));
    if (server && server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
    for (const r of receivers) await r.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('every traced request is delivered at least once; the restarted agent replays its queue; exported counters match unique spans', async (t) => {
    const t0 = Date.now();
    const rx1 = await startHttpReceiver();
    receivers.push(rx1);
    const rxPort = rx1.port;
    const serverPort = await freePort();
    server = spawn(process.execPath, [join(import.meta.dirname, 'helpers', 'numbered-server.mjs'), String(serverPort)], { stdio: ['ignore', 'ignore', 'inherit'] });
    await waitForPort(serverPort);

    const cfg = tempConfig(stringify({
      self_telemetry: { listen: '127.0.0.1:0' },
      shutdown_timeout: '3s',
      otlp: {
        endpoint: `http://127.0.0.1:${rxPort}`, protocol: 'http', insecure: true, flush_interval: '100ms', timeout: '2s',
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
    dir = cfg.dir;
    const queueDir = join(dir, 'queue', 'traces');
    const received = () => spansOf([...rx1.received, ...receivers.slice(1).flatMap((r) => r.received)].map((r) => r.body));
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

    // --- Receiver stopped; the load goes on: these spans can only be in A's queue. ---
    await rx1.close();
    const atClose = loadA.completed();
    await waitFor(() => loadA.completed() >= atClose + 150, 15_000, 'load during the outage');
    const idsA = await loadA.stop();

    // Wait until every request of A's window is delivered or persisted (complete records on disk), and the
    // agent's own queue size says the same (nothing left only in memory).
    const pathsIn = (spans: SpanSeen[]) => new Set(spans.map((s) => s.path));
    let pending: number;
    const persistedBy = Date.now() + 15_000;
    for (;;) {
      const disk = onDisk();
      const seen = new Set([...pathsIn(received()), ...pathsIn(spansOf(disk.map((r) => r.body)))]);
      pending = disk.reduce((n, r) => n + r.items, 0);
      const size = (await exportStatus(a.base)).queues.traces!.size;
      if (idsA.every((id) => seen.has(`/req/${id}`)) && size === pending) break;
      if (Date.now() > persistedBy) {
        const missing = idsA.filter((id) => !seen.has(`/req/${id}`));
        assert.fail(`agent A: ${missing.length} of ${idsA.length} requests neither delivered nor persisted (e.g. ${missing.slice(0, 5).join(',')}); queue size ${size}, on disk ${pending}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const outageOnlyOnDisk = idsA.filter((id) => !pathsIn(received()).has(`/req/${id}`)).length;
    assert.ok(outageOnlyOnDisk >= 100, `an outage backlog exists only on disk (${outageOnlyOnDisk} requests)`);
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
    await waitFor(() => {
      const seen = pathsIn(spansOf(onDisk().map((r) => r.body)));
      return idsB.every((id) => seen.has(`/req/${id}`));
    }, 15_000, 'agent B to persist its outage spans');

    // --- Receiver back on the same port. ---
    const rx2 = await startHttpReceiver({ port: rxPort });
    receivers.push(rx2);
    const tBack = Date.now();
    const expected = [...idsA, ...idsB];
    await waitFor(() => {
      const seen = pathsIn(received());
      return expected.every((id) => seen.has(`/req/${id}`));
    }, 30_000, 'every request to have a span at the receiver').catch(async (e: Error) => {
      const seen = pathsIn(received());
      const missing = expected.filter((id) => !seen.has(`/req/${id}`));
      throw new Error(`${e.message}: ${missing.length} lost (e.g. ${missing.slice(0, 10).join(',')}); status ${JSON.stringify(await exportStatus(b.base))}`);
    });
    const tDelivered = Date.now();
    // Everything acknowledged: B's queue is empty, so its counters are final.
    const drainedBy = Date.now() + 15_000;
    while ((await exportStatus(b.base)).queues.traces!.size > 0) {
      assert.ok(Date.now() < drainedBy, 'agent B drains its queue');
      await new Promise((r) => setTimeout(r, 50));
    }

    const all = received();
    const reqSpans = all.filter((s) => reqId(s.path) !== undefined);
    const uniqueIds = new Set(all.map((s) => s.id));
    const seenReq = new Set(reqSpans.map((s) => s.path));
    const lost = expected.filter((id) => !seenReq.has(`/req/${id}`)).length;
    const duplicates = all.length - uniqueIds.size;
    const exportedB = await metricValue(b.base, 'telegen_spans_exported_total');
    const statusB = (await exportStatus(b.base)).queues.traces!;
    t.diagnostic(`requests: agent A ${idsA.length} (${outageOnlyOnDisk} only on disk at the kill), agent B ${idsB.length}; ` +
      `persisted at kill ${pending} spans, replayed ${String(replay.items)} in ${String(replay.records)} batches; received ${all.length} spans, ` +
      `unique ${uniqueIds.size}, duplicates ${duplicates}, lost ${lost}; exported A ${exportedA} + B ${exportedB}`);
    t.diagnostic(`timings: A ready ${tReadyA - t0} ms, killed at ${tKilled - t0} ms, receiver back at ${tBack - t0} ms, all delivered at ${tDelivered - t0} ms`);

    assert.equal(lost, 0, 'no request made while an agent was attached is lost');
    // No span is made up: every /req span answers a request the client completed in a counted window.
    const made = new Set(expected);
    assert.deepEqual(reqSpans.filter((s) => !made.has(reqId(s.path)!)).map((s) => s.path), []);
    // Each span was acknowledged exactly once across both lifetimes; the duplicates are what the receiver took
    // without the agent hearing back (requests in flight when it went away), replayed after the restart.
    assert.equal(exportedA + exportedB, uniqueIds.size, 'exported counters (A at the kill + B) = unique spans received');
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
  });
});
