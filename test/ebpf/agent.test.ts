// The ebpf subsystem inside a real Agent with the real control API: /status/ebpf has the documented shape
// (validated against /openapi.json), /ready reports the `ebpf` check, /metrics carries telegen_ebpf_* and
// telegen_flow_*, and a SIGHUP-style reload switches the TCP tracer off without a restart.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { apiConfig, call, startAgent, validatorFor, type OpenApiValidator, type TestAgent } from '../api/helpers.js';
import type { EbpfStatus } from '../../src/ebpf/core.js';
import { bpfSkipReason, waitFor } from './helpers.js';

const skip = bpfSkipReason();
if (skip) console.log(`# skipping agent eBPF tests: ${skip}`);

const withEbpf = (network: boolean) => apiConfig('').replace('  ebpf:\n    enabled: false', `  ebpf:\n    enabled: true\n    ringbuf_size: 1048576\n    network:\n      enabled: ${network}`);

describe('ebpf subsystem in the agent', { skip }, () => {
  let t: TestAgent;
  let v: OpenApiValidator;
  before(async () => {
    t = await startAgent(withEbpf(true));
    v = await validatorFor(t.base);
  });
  after(async () => { await t?.stop(); });

  test('/status/ebpf, /ready and /metrics', async () => {
    const r = await call(v, t.base, '/status/ebpf');
    assert.equal(r.status, 200);
    const st = JSON.parse(r.body) as EbpfStatus;
    assert.equal(st.enabled, true);
    assert.deepEqual(Object.keys(st).sort(), ['enabled', 'maps', 'programs', 'ringbuf']);
    assert.deepEqual(Object.keys(st.ringbuf).sort(), ['events_lost', 'events_received', 'size']);
    assert.equal(st.ringbuf.size, 1048576);
    const tcp = st.programs.find((p) => p.name === 'trace_tcp_connect');
    assert.ok(tcp && tcp.type === 'tracepoint' && tcp.attached && tcp.id > 0);
    for (const p of st.programs) assert.deepEqual(Object.keys(p).sort(), ['attached', 'id', 'name', 'type']);
    const cm = st.maps.find((m) => m.name === 'connection_map');
    assert.ok(cm && cm.type === 'hash' && cm.max_entries === 65536);
    assert.ok(st.maps.some((m) => m.name === 'tg_events' && m.type === 'ringbuf'));

    const ready = JSON.parse((await call(v, t.base, '/ready')).body) as { checks: Record<string, string> };
    assert.equal(ready.checks.ebpf, 'ok');

    // A connection to the agent's own API shows up in the flow metrics.
    await new Promise<void>((res) => { const c = net.connect(Number(new URL(t.base).port), '127.0.0.1', () => c.end()); c.on('close', () => res()); });
    await waitFor(() => (t.agent.subsystemStatus('ebpf') as EbpfStatus).ringbuf.events_received > 0, 3000, 'events');
    // Other events (exec/exit/listen) may come first: wait for the flow itself (delivered within delivery_latency).
    const outbound = /telegen_flow_connections_total\{protocol="tcp",direction="outbound"\} [1-9]/;
    let metrics = '';
    for (const end = Date.now() + 3000; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
      metrics = (await call(undefined, t.base, '/metrics')).body;
      if (outbound.test(metrics)) break;
    }
    assert.match(metrics, /telegen_ebpf_programs_loaded\{program_type="tracepoint"\} \d+/);
    assert.match(metrics, /telegen_ebpf_maps_created\{map_type="ringbuf"\} 1/);
    assert.match(metrics, /telegen_ebpf_map_entries\{map_name="connection_map"\} \d+/);
    assert.match(metrics, /telegen_ebpf_ringbuf_events_total [1-9]/);
    assert.match(metrics, /telegen_ebpf_ringbuf_lost_total \d+/);
    assert.match(metrics, /# TYPE telegen_ebpf_map_full_total counter/);
    assert.match(metrics, /# TYPE telegen_ebpf_events_discarded_total counter/);
    assert.match(metrics, outbound);
  });

  test('reload turns the TCP tracer off, keeping the core', async () => {
    t.write(withEbpf(false));
    const res = await t.agent.reload();
    assert.deepEqual(res, { ok: true });
    const st = t.agent.subsystemStatus('ebpf') as EbpfStatus;
    assert.ok(!st.programs.some((p) => p.name.startsWith('trace_tcp')));
    assert.ok(st.programs.some((p) => p.name === 'trace_process_exec'));
    assert.equal(t.agent.readiness().checks.ebpf, 'ok');
  });
});
