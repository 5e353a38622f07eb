// The TCP connection tracer against the real kernel: known connections (outbound, inbound, refused) made by
// this process produce exactly the expected events, with pid, ports, direction, bytes and errno; the kernel
// map forgets them on close; flow metrics and their OTLP form follow. Other tests run concurrently, so only
// events on this test's own ports are considered.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createEbpfCore } from '../../src/ebpf/core.js';
import { EventKind, type EbpfSubsystem } from '../../src/ebpf/core.js';
import { decodeTcpEvent, type TcpEvent } from '../../src/ebpf/tcp/tcp-events.js';
import { bpfSkipReason, testContext, waitFor, sleep } from './helpers.js';

const skip = bpfSkipReason();
if (skip) console.log(`# skipping TCP tracer tests: ${skip}`);

const listen = (host: string, onConn: (s: net.Socket) => void) => new Promise<net.Server>((resolve, reject) => {
  const srv = net.createServer(onConn);
  srv.once('error', reject);
  srv.listen(0, host, () => resolve(srv));
});
const portOf = (s: net.Server) => (s.address() as net.AddressInfo).port;

/** Connect, send `ping!`, read the server's `hello` and close; resolves with the local port used. */
function exchange(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, host);
    let local = 0;
    c.once('connect', () => { local = c.localPort!; c.write('ping!'); });
    c.on('data', () => {});
    c.once('error', reject);
    c.once('close', () => resolve(local));
  });
}

function refused(port: number): Promise<number> {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    c.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED' ? 111 : -1));
  });
}

/** [local port, remote port] of every entry in the kernel's connection_map (struct conn: sport @72, dport @74). */
function kernelConnectionPorts(core: EbpfSubsystem): Array<[number, number]> {
  const bpftool = (...a: string[]) => JSON.parse(execFileSync('bpftool', [...a, '-j']).toString()) as unknown;
  const id = core.status().programs.find((p) => p.name === 'trace_tcp_connect')!.id;
  const { map_ids: mapIds } = bpftool('prog', 'show', 'id', String(id)) as { map_ids: number[] };
  const mapId = mapIds.find((m) => (bpftool('map', 'show', 'id', String(m)) as { name: string }).name === 'connection_map')!;
  const entries = bpftool('map', 'dump', 'id', String(mapId)) as Array<{ value: string[] }>;
  const u16 = (v: string[], o: number) => Number(v[o]) | (Number(v[o + 1]) << 8);
  return entries.map((e) => [u16(e.value, 72), u16(e.value, 74)]);
}

describe('TCP connection tracer', { skip }, () => {
  let core: EbpfSubsystem;
  const ctx = testContext();
  const events: TcpEvent[] = [];
  const servers: net.Server[] = [];

  before(async () => {
    core = createEbpfCore(ctx);
    await core.start();
    assert.equal(core.health(), 'ok');
    core.subscribe(EventKind.TCP, (b) => { for (const o of b.offsets) { const e = decodeTcpEvent(b.buf, o); if (e) events.push(e); } });
  });
  after(async () => {
    for (const s of servers) s.close();
    await core?.stop();
  });

  test('N known connections → exactly the expected events with pid, ports and direction', async () => {
    const onConn = (s: net.Socket) => { s.on('data', () => { s.end('hello'); }); s.on('error', () => {}); };
    const srv = await listen('127.0.0.1', onConn);
    servers.push(srv);
    const port = portOf(srv);
    const closed = await listen('127.0.0.1', () => {});
    const deadPort = portOf(closed);
    await new Promise((r) => closed.close(r));

    const K = 6, R = 3;
    const clientPorts = new Set<number>();
    for (let i = 0; i < K; i++) clientPorts.add(await exchange('127.0.0.1', port));
    for (let i = 0; i < R; i++) assert.equal(await refused(deadPort), 111);

    const mine = () => events.filter((e) => e.localPort === port || e.remotePort === port || e.remotePort === deadPort);
    // Per successful connection: client side (established + closed) and server side (established + closed).
    const expected = 4 * K + R;
    await waitFor(() => mine().length >= expected, 5000, `${expected} events`);
    await sleep(300); // nothing more may arrive
    const got = mine();
    assert.equal(got.length, expected);

    const pid = process.pid;
    for (const e of got) assert.equal(e.pid, pid, `pid of ${e.type} ${e.direction}`);

    const outbound = got.filter((e) => e.direction === 'outbound' && e.remotePort === port);
    const inbound = got.filter((e) => e.direction === 'inbound' && e.localPort === port);
    const failedEv = got.filter((e) => e.remotePort === deadPort);
    assert.equal(outbound.length, 2 * K);
    assert.equal(inbound.length, 2 * K);
    assert.equal(failedEv.length, R);

    for (const e of outbound) {
      assert.ok(clientPorts.has(e.localPort), `client port ${e.localPort}`);
      assert.equal(e.localAddress, '127.0.0.1');
      assert.equal(e.remoteAddress, '127.0.0.1');
    }
    for (const e of inbound) assert.ok(clientPorts.has(e.remotePort), `peer port ${e.remotePort}`);
    assert.deepEqual(new Set(outbound.filter((e) => e.type === 'established').map((e) => e.localPort)), clientPorts);
    assert.deepEqual(new Set(inbound.filter((e) => e.type === 'established').map((e) => e.remotePort)), clientPorts);

    for (const e of [...outbound, ...inbound].filter((x) => x.type === 'closed')) {
      // Each side sent 5 bytes and received 5 ('ping!' / 'hello').
      assert.equal(e.bytesSent, 5, `${e.direction} bytes sent`);
      assert.equal(e.bytesReceived, 5, `${e.direction} bytes received`);
      assert.ok(e.durationNs > 0 && e.durationNs < 5e9, `duration ${e.durationNs}`);
      assert.ok(e.announced);
      assert.equal(e.comm.length > 0, true);
    }
    for (const e of failedEv) {
      assert.equal(e.type, 'failed');
      assert.equal(e.direction, 'outbound');
      assert.equal(e.error, 111);
      assert.equal(e.announced, false);
    }
    assert.ok(got.every((e) => e.cgroupId > 0n), 'cgroup id');

    // Closed connections left the kernel map.
    assert.ok(!kernelConnectionPorts(core).some(([l, r]) => l === port || r === port || r === deadPort));
    const tcp = core.status().maps.find((m) => m.name === 'connection_map');
    assert.ok(tcp && tcp.max_entries === 65536 && tcp.entries <= tcp.max_entries);
  });

  test('the kernel map holds a live connection and forgets it on close', async () => {
    const srv = await listen('127.0.0.1', (s) => { s.on('data', () => {}); s.on('error', () => {}); });
    servers.push(srv);
    const port = portOf(srv);
    const c = net.connect(port, '127.0.0.1');
    await new Promise((r) => c.once('connect', r));
    const live = kernelConnectionPorts(core).filter(([l, r]) => l === port || r === port);
    assert.equal(live.length, 2, 'client and server side tracked while open');
    c.destroy();
    await waitFor(() => !kernelConnectionPorts(core).some(([l, r]) => l === port || r === port), 3000, 'entries removed');
  });

  test('a connect that times out: failed with ETIMEDOUT and the SYN retransmits counted', async () => {
    // A listener with backlog 0 whose accept queue is full drops SYNs; TCP_SYNCNT=1 makes connect() give up
    // after one retransmission (~3 s) instead of two minutes. Python, because Node cannot set TCP_SYNCNT.
    const script = [
      'import socket',
      "srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen(0)",
      'port = srv.getsockname()[1]',
      "filler = socket.create_connection(('127.0.0.1', port))",
      'c = socket.socket(); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_SYNCNT, 1)',
      'print(port, flush=True)',
      "try:\n    c.connect(('127.0.0.1', port)); print('connected', flush=True)\nexcept OSError as e:\n    print('errno', e.errno, flush=True)",
    ].join('\n');
    const py = spawn('python3', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    py.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    await once(py, 'exit');
    const [portLine, result] = out.trim().split('\n');
    assert.equal(result, 'errno 110', out);
    const port = Number(portLine);
    await waitFor(() => events.some((e) => e.remotePort === port && e.type === 'failed' && e.error === 110), 3000, 'timed-out event');
    const e = events.find((x) => x.remotePort === port && x.type === 'failed' && x.error === 110)!;
    assert.equal(e.pid, py.pid);
    assert.equal(e.direction, 'outbound');
    assert.ok(e.retransmits >= 1, `retransmits ${e.retransmits}`);
    assert.ok(e.durationNs > 2e9, `duration ${e.durationNs}`);
    const failures = await ctx.metrics.registry.getSingleMetricAsString('telegen_flow_connection_failures_total');
    assert.match(failures, /reason="timed_out"/);
  });

  test('IPv6 loopback connections carry v6 addresses', async (t) => {
    let srv: net.Server;
    try {
      srv = await listen('::1', (s) => { s.on('data', () => s.end('hello')); s.on('error', () => {}); });
    } catch (e) {
      t.skip(`no IPv6 loopback: ${(e as Error).message}`);
      return;
    }
    servers.push(srv);
    const port = portOf(srv);
    const local = await exchange('::1', port);
    await waitFor(() => events.filter((e) => e.remotePort === port && e.type === 'closed').length === 1, 5000, 'v6 close');
    const e = events.find((x) => x.remotePort === port && x.type === 'closed')!;
    assert.equal(e.family, 6);
    assert.equal(e.remoteAddress, '::1');
    assert.equal(e.localPort, local);
  });

  test('flow metrics: Prometheus families and the OTLP push on stop', async () => {
    const text = await ctx.metrics.registry.getSingleMetricAsString('telegen_flow_connections_total');
    const val = (dir: string) => Number(new RegExp(`direction="${dir}"[^}]*} (\\d+)`).exec(text)?.[1] ?? 0);
    assert.ok(val('outbound') >= 6 && val('inbound') >= 6, text);
    const failures = await ctx.metrics.registry.getSingleMetricAsString('telegen_flow_connection_failures_total');
    assert.match(failures, /reason="refused"[^}]*} ([3-9]|\d\d+)/);
    const bytes = await ctx.metrics.registry.getSingleMetricAsString('telegen_flow_bytes_total');
    assert.match(bytes, /direction="sent"/);

    await core.stop();
    const names = ctx.pushed.metrics.map((m) => m.name);
    for (const n of ['telegen.flow.connections', 'telegen.flow.bytes', 'telegen.flow.active_connections', 'telegen.flow.connection_failures']) {
      assert.ok(names.includes(n), `${n} pushed (got ${names.join(', ')})`);
    }
    const conns = ctx.pushed.metrics.find((m) => m.name === 'telegen.flow.connections')!;
    assert.equal(conns.type, 'sum');
    assert.ok(conns.points.some((p) => p.attributes['network.connection.direction'] === 'outbound' && (p as { value: number }).value >= 6));
  });
});
