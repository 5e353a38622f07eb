// Ground truth against real servers and clients: every request a real client makes yields exactly one server
// span (and one client span: the clients are traced too) with the exact method, path and status, and a
// duration within 5% (or 1 ms) of what the client measured. Servers and clients are child processes (this
// process is the agent, which never traces itself); assertions filter on this test's own ports.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SpanKind, StatusCode, type Span } from '../../src/model/span.js';
import { toHex } from '../../src/tracing/trace-context.js';
import { readStealTicks } from '../../src/util/proc-stat-cpus.js';
import { bpfSkipReason, freePort, Procs, run, sleep, startAgentSlice, waitFor, waitForPort, type AgentSlice } from './helpers.js';

const skip = bpfSkipReason();
if (skip) console.log(`# skipping HTTP capture tests: ${skip}`);
const FIXTURES = join(import.meta.dirname, 'fixtures');

interface ClientResult { method: string; path: string; status: number; ms: number; waitedMs: number; localPort: number; warmup?: boolean }

const durMs = (s: Span) => Number(s.endTimeUnixNano - s.startTimeUnixNano) / 1e6;
const serverSpans = (spans: Span[], port: number) =>
  spans.filter((s) => s.kind === SpanKind.SERVER && s.attributes['server.port'] !== undefined && portOf(s, 'server') === port);
const clientSpans = (spans: Span[], port: number) =>
  spans.filter((s) => s.kind === SpanKind.CLIENT && s.attributes['network.peer.port'] === port);
/** The server's listening port as the span saw it on the socket (the Host header may name another). */
function portOf(s: Span, _side: 'server'): number | undefined {
  const url = s.attributes['server.port'];
  return typeof url === 'number' ? url : undefined;
}

/**
 * The rule, per request: a span's duration is within 5% (or 1 ms) of what the client measured.
 * - Client spans (kernel: enter of the write that sent the request → exit of the read that returned its last byte)
 *   are compared with the client's own measurement, taken as tightly as its user space allows: Node's from just
 *   before its first write of the request to the 'data' event of the socket bytes that completed the response
 *   (fixtures/node-client.mjs), curl's from its own trace (the send of the request to the last receive). What remains between the two is
 *   the few µs of user space around the syscalls. The one thing that can stretch those µs is the client being
 *   preempted right there (seen: 1–8 ms at load average 4 on this shared 2-core host); so the client also reports
 *   how long it waited for a CPU during its measurement (run_delay of /proc/<pid>/schedstat) and that wait — zero
 *   when it was never preempted, the normal case on an idle CI machine — is added to the 5%/1 ms. A timing error
 *   of the tracer (a misattributed syscall, a lost gap) is not hidden by it: it is off by a whole exchange.
 * - Server spans (exit of the read that returned the request → exit of the write that handed over its last byte)
 *   are compared with the client's measurement minus what the kernel shows happened outside the server: the
 *   request in flight and waiting until the server read it (server read exit − client write enter) and the
 *   response in transit after the server's last write (client last read exit − server write exit; for a 10 MB
 *   response, the client draining its socket buffer; with Nagle, a held-back last segment).
 */
class Timings {
  private readonly rows: Array<{ what: string; spanMs: number; clientMs: number; tolMs: number }> = [];

  /** `waitedMs`: how long the client waited for a CPU during its measurement (its clock reads may be late by that). */
  /** Added to every tolerance: hypervisor steal during the suite (stolenSlackMs), 0 on a host that steals nothing. */
  constructor(private readonly stolenMs = 0) {}

  add(what: string, spanMs: number, clientMs: number, waitedMs = 0): void {
    this.rows.push({ what: waitedMs ? `${what} (client waited ${waitedMs.toFixed(3)} ms for a CPU)` : what, spanMs, clientMs,
      tolMs: Math.max(clientMs * 0.05, 1) + waitedMs + this.stolenMs });
  }

  /** A server span against the client's measurement, less the kernel-visible time outside the server. */
  addServer(what: string, srv: Span, cli: Span, clientMs: number, waitedMs = 0): void {
    const inFlight = Number(srv.startTimeUnixNano - cli.startTimeUnixNano) / 1e6;
    const inTransit = Number(cli.endTimeUnixNano - srv.endTimeUnixNano) / 1e6;
    this.add(`${what} (request in flight ${inFlight.toFixed(3)} ms, response in transit ${inTransit.toFixed(3)} ms)`,
      durMs(srv), clientMs - inFlight - inTransit, waitedMs);
  }

  check(): void {
    assert.ok(this.rows.length > 0, 'no timings compared');
    const off = this.rows.filter((r) => Math.abs(r.spanMs - r.clientMs) > r.tolMs);
    if (process.env.TIMINGS_LOG) {
      const worst = [...this.rows].sort((a, b) => Math.abs(b.spanMs - b.clientMs) / b.tolMs - Math.abs(a.spanMs - a.clientMs) / a.tolMs);
      for (const r of worst.slice(0, 5)) console.log(`# ${r.what}: span ${r.spanMs.toFixed(3)} ms, client ${r.clientMs.toFixed(3)} ms (±${r.tolMs.toFixed(3)})`);
    }
    assert.deepEqual(off, [], 'span durations off the client clock by more than 5% (or 1 ms)');
  }
}

/**
 * What curl measured per exchange, from its own trace (`--trace-time --trace-ascii`): curl logs a request head
 * right after the send that wrote it and each received part right after the recv that returned it, so the time
 * from "=> Send header" to the last "<= Recv" of that exchange brackets its syscalls by microseconds — unlike
 * `-w` time_pretransfer/time_connect, which are stamped at state changes away from the syscalls.
 */
function curlExchanges(trace: string): number[] {
  const ms = (hms: string) => { const [h, m, s] = hms.split(':').map(Number) as [number, number, number]; return ((h * 60 + m) * 60 + s) * 1000; };
  const out: number[] = [];
  let start: number | undefined;
  let last: number | undefined;
  const close = () => {
    if (start !== undefined && last !== undefined) out.push(last >= start ? last - start : last + 86_400_000 - start); // midnight
  };
  for (const line of trace.split('\n')) {
    const m = /^(\d\d:\d\d:\d\d\.\d{6}) (?:=> (Send header)|<= Recv (?:header|data))/.exec(line);
    if (!m) continue;
    if (m[2]) {
      close();
      start = ms(m[1]!);
      last = undefined;
    } else last = ms(m[1]!);
  }
  close();
  return out;
}

/**
 * Hypervisor steal: a vCPU descheduled by the host between a syscall's work and its exit tracepoint stamps the
 * exit late by as long as it was away — milliseconds (7 ms seen at 12% steal), invisible to the guest's own scheduler statistics (the
 * task looks running). Measured over the suite (/proc/stat `steal`, all CPUs) from `markSteal()`; when the host
 * took more than 1% of this VM's CPU time meanwhile, timing checks allow STOLEN_SLACK_MS more and say so. On a
 * host that steals nothing (the normal CI machine) the checks stay as tight as they were.
 */
const STOLEN_SLACK_MS = 20;
let stealMark = { steal: 0, total: 0 };
function markSteal(): void {
  stealMark = readStealTicks();
}
function stolenSlackMs(): number {
  const now = readStealTicks();
  const share = (now.steal - stealMark.steal) / Math.max(1, now.total - stealMark.total);
  if (share <= 0.01) return 0;
  console.log(`# host steal ${(share * 100).toFixed(1)}% of this VM's CPU time since the suite began: timing checks allow ${STOLEN_SLACK_MS} ms more`);
  return STOLEN_SLACK_MS;
}

/** Kernel timestamps share one clock: the server's handling lies inside the client's request. */
function assertInside(srv: Span, cli: Span, what: string, stolenMs = 0): void {
  const slack = 50_000n + BigInt(stolenMs * 1e6); // 50 µs: clock reads on two CPUs (+ hypervisor steal, above)
  assert.ok(srv.startTimeUnixNano >= cli.startTimeUnixNano - slack && srv.endTimeUnixNano <= cli.endTimeUnixNano + slack,
    `${what}: server span [${srv.startTimeUnixNano}, ${srv.endTimeUnixNano}] not inside client span [${cli.startTimeUnixNano}, ${cli.endTimeUnixNano}]`);
}

/**
 * Requests matched with their server and client spans: by connection (client.port = the client's local port),
 * then by order on it (spans sorted by start). Every request must have exactly its spans, no more, no fewer.
 */
function pairByConnection(results: ClientResult[], servers: Span[], clients: Span[]): Array<[ClientResult, Span, Span]> {
  const byStart = (a: Span, b: Span) => Number(a.startTimeUnixNano - b.startTimeUnixNano);
  const out: Array<[ClientResult, Span, Span]> = [];
  for (const port of new Set(results.map((r) => r.localPort))) {
    const rs = results.filter((r) => r.localPort === port);
    const srv = servers.filter((s) => s.attributes['client.port'] === port).sort(byStart);
    const cli = clients.filter((s) => s.attributes['client.port'] === port).sort(byStart);
    assert.equal(srv.length, rs.length, `server spans on connection :${port}`);
    assert.equal(cli.length, rs.length, `client spans on connection :${port}`);
    rs.forEach((r, i) => out.push([r, srv[i]!, cli[i]!]));
  }
  return out;
}

async function nodeClient(procs: Procs, plan: object): Promise<ClientResult[]> {
  const r = await run(process.execPath, [join(FIXTURES, 'node-client.mjs'), JSON.stringify({ warmup: true, ...plan })], procs);
  assert.equal(r.code, 0, 'node client failed');
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l) as ClientResult);
}

describe('HTTP capture against real servers and clients', { skip }, () => {
  let slice: AgentSlice;
  const procs = new Procs();

  before(async () => {
    markSteal();
    slice = await startAgentSlice();
  });
  after(async () => {
    procs.killAll();
    await slice?.stop();
  });

  it('Node http server, Node client: keep-alive mix of 200/404/500, slow handler, chunked, 10 MB, POST, concurrency', async () => {
    const port = await freePort();
    procs.spawn(process.execPath, [join(FIXTURES, 'node-server.mjs'), String(port)]);
    await waitForPort(port);
    const requests = [
      { method: 'GET', path: '/hello' }, { method: 'GET', path: '/missing' }, { method: 'GET', path: '/fail' },
      { method: 'GET', path: '/slow?ms=150' }, { method: 'GET', path: '/chunked' }, { method: 'GET', path: '/big' },
      { method: 'POST', path: '/echo', body: 'x'.repeat(5000) }, { method: 'GET', path: '/users/123' },
      { method: 'HEAD', path: '/hello' }, { method: 'DELETE', path: '/hello' },
    ];
    const sequential = await nodeClient(procs, { port, requests, concurrency: 1 });
    const concurrent = await nodeClient(procs, { port, concurrency: 8, requests: Array.from({ length: 24 }, (_, i) => ({ method: 'GET', path: `/slow?ms=${20 + i}` })) });
    const all = [...sequential, ...concurrent];
    await waitFor(() => serverSpans(slice.spans, port).length >= all.length && clientSpans(slice.spans, port).length >= all.length, 10_000, 'spans');
    await sleep(300); // nothing extra may arrive late
    const servers = serverSpans(slice.spans, port);
    const clients = clientSpans(slice.spans, port);
    assert.equal(servers.length, all.length, 'exactly one server span per request');
    assert.equal(clients.length, all.length, 'exactly one client span per request');
    const stolenMs = stolenSlackMs();
    const timings = new Timings(stolenMs);
    // Each request is paired with its own spans: same connection (the client's local port is the spans'
    // client.port), same place in that connection's sequence (a keep-alive socket carries one request at a time).
    for (const [r, srv, cli] of pairByConnection(all, servers, clients)) {
      const path = r.path.split('?')[0];
      for (const s of [srv, cli]) {
        assert.deepEqual([s.attributes['http.request.method'], s.attributes['url.path'], s.attributes['http.response.status_code']],
          [r.method, path, r.status], `span for ${r.method} ${r.path} on port ${r.localPort}`);
      }
      assertInside(srv, cli, `${r.method} ${r.path}`, stolenMs);
      if (r.warmup) continue;
      timings.add(`client ${r.method} ${r.path}`, durMs(cli), r.ms, r.waitedMs);
      timings.addServer(`server ${r.method} ${r.path}`, srv, cli, r.ms, r.waitedMs);
    }
    timings.check();
    const fail = servers.find((s) => s.attributes['url.path'] === '/fail')!;
    assert.equal(fail.status.code, StatusCode.ERROR);
    assert.equal(servers.find((s) => s.attributes['url.path'] === '/missing')!.status.code, StatusCode.UNSET);
    assert.equal(clients.find((s) => s.attributes['url.path'] === '/missing')!.status.code, StatusCode.ERROR);
    assert.equal(servers.find((s) => s.attributes['url.path'] === '/users/123')!.attributes['http.route'], '/users/{id}');
    const srvRes = servers[0]!.resource.attributes;
    assert.equal(srvRes['process.executable.name'], 'node');
    assert.equal(typeof srvRes['process.pid'], 'number');
  });

  it('pipelined requests on one connection: each gets its span, in order', async () => {
    const port = await freePort();
    procs.spawn(process.execPath, [join(FIXTURES, 'node-server.mjs'), String(port)]);
    await waitForPort(port);
    const paths = ['/hello', '/missing', '/users/7', '/fail', '/hello'];
    const r = await run(process.execPath, [join(FIXTURES, 'pipeline-client.mjs'), String(port), JSON.stringify(paths)], procs);
    assert.equal(r.code, 0);
    await waitFor(() => serverSpans(slice.spans, port).length >= paths.length, 10_000, 'pipelined spans');
    const servers = serverSpans(slice.spans, port).sort((a, b) => Number(a.startTimeUnixNano - b.startTimeUnixNano));
    assert.deepEqual(servers.map((s) => [s.attributes['url.path'], s.attributes['http.response.status_code']]),
      [['/hello', 200], ['/missing', 404], ['/users/7', 200], ['/fail', 500], ['/hello', 200]]);
  });

  it('python3 -m http.server with curl: keep-alive reuse, 404, a traceparent becomes the server span parent', async () => {
    const port = await freePort();
    const dir = procs.tempDir('tg-py-');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'index.txt'), 'python says hi\n');
    procs.spawn('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', dir]);
    await waitForPort(port);
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parent = '00f067aa0ba902b7';
    const trace = join(dir, 'curl.trace');
    // curl runs under with-run-delay.py, which reports how long curl waited for a CPU in its whole life.
    const r = await run('python3', [join(FIXTURES, 'with-run-delay.py'), 'curl', '-s', '-o', '/dev/null', '-o', '/dev/null', '-o', '/dev/null', '-w', '%{http_code}\\n',
      '--trace-time', '--trace-ascii', trace, '-H', `traceparent: 00-${traceId}-${parent}-01`,
      `http://127.0.0.1:${port}/index.txt`, `http://127.0.0.1:${port}/nope`, `http://127.0.0.1:${port}/index.txt?x=1`], procs);
    const out = r.stdout.trim().split('\n');
    const curlWaitedMs = Number(/^run_delay_ns (\d+)$/.exec(out.pop() ?? '')?.[1]) / 1e6;
    assert.ok(Number.isFinite(curlWaitedMs), 'curl run_delay reported');
    assert.deepEqual(out.map(Number), [200, 404, 200]);
    const curlMs = curlExchanges(readFileSync(trace, 'utf8'));
    assert.equal(curlMs.length, 3, 'curl trace: three exchanges');
    await waitFor(() => serverSpans(slice.spans, port).length >= 3 && clientSpans(slice.spans, port).length >= 3, 10_000, 'python spans');
    await sleep(200);
    const servers = serverSpans(slice.spans, port).sort((a, b) => Number(a.startTimeUnixNano - b.startTimeUnixNano));
    const clients = clientSpans(slice.spans, port).sort((a, b) => Number(a.startTimeUnixNano - b.startTimeUnixNano));
    assert.equal(servers.length, 3);
    assert.equal(clients.length, 3);
    assert.deepEqual(servers.map((s) => [s.attributes['url.path'], s.attributes['http.response.status_code']]),
      [['/index.txt', 200], ['/nope', 404], ['/index.txt', 200]]);
    const stolenMs = stolenSlackMs();
    const timings = new Timings(stolenMs);
    for (const [i, s] of servers.entries()) {
      assert.equal(toHex(s.traceId), traceId);
      assert.equal(toHex(s.parentSpanId!), parent);
      assert.equal(s.attributes['user_agent.original']?.toString().startsWith('curl/'), true);
      const clientMs = curlMs[i]!;
      assert.equal(clients[i]!.attributes['client.port'], s.attributes['client.port'], `curl request ${i}: one connection`);
      assertInside(s, clients[i]!, `python ${i}`, stolenMs);
      timings.add(`curl client span ${i}`, durMs(clients[i]!), clientMs, curlWaitedMs);
      // python writes headers and body in separate small writes without TCP_NODELAY: Nagle may hold the body
      // after the server's last write returned; that wait is the response in transit, outside the server span.
      timings.addServer(`python server span ${i}`, s, clients[i]!, clientMs, curlWaitedMs);
    }
    timings.check();
  });

  it('nginx (sendfile, 10 MB file, 404, 500) under a load tool: one span per request', async () => {
    const port = await freePort();
    const dir = procs.tempDir('tg-nginx-');
    const { writeFileSync, mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'html'));
    writeFileSync(join(dir, 'html', 'index.html'), '<h1>nginx</h1>\n');
    writeFileSync(join(dir, 'html', 'big.bin'), Buffer.alloc(10 * 1024 * 1024, 0x6e));
    writeFileSync(join(dir, 'nginx.conf'), `
daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp; proxy_temp_path ${dir}/tmp; fastcgi_temp_path ${dir}/tmp; uwsgi_temp_path ${dir}/tmp; scgi_temp_path ${dir}/tmp;
  sendfile on;
  server {
    listen 127.0.0.1:${port};
    root ${dir}/html;
    location = /fail { return 500; }
  }
}`);
    procs.spawn('/usr/sbin/nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')]);
    await waitForPort(port);
    const results = await nodeClient(procs, { port, requests: [
      { method: 'GET', path: '/index.html' }, { method: 'GET', path: '/big.bin' }, { method: 'GET', path: '/nope' }, { method: 'GET', path: '/fail' },
    ] });
    assert.deepEqual(results.map((r) => r.status), [404, 200, 200, 404, 500]);
    // A load tool with an exact request count.
    const ac = await run(join(process.cwd(), 'node_modules/.bin/autocannon'), ['-j', '-c', '4', '-a', '400', `http://127.0.0.1:${port}/index.html`], procs);
    const report = JSON.parse(ac.stdout) as { requests: { total: number }; '2xx': number; non2xx: number };
    const total = report['2xx'] + report.non2xx;
    const expected = results.length + total;
    await waitFor(() => serverSpans(slice.spans, port).length >= expected, 15_000, `nginx spans (${expected})`);
    await sleep(300);
    const servers = serverSpans(slice.spans, port);
    assert.equal(servers.length, expected);
    assert.equal(servers.filter((s) => s.attributes['url.path'] === '/index.html').length, total + 1);
    const stolenMs = stolenSlackMs();
    const timings = new Timings(stolenMs);
    const nodePorts = new Set(results.map((r) => r.localPort));
    const onNodeClient = (x: Span) => nodePorts.has(x.attributes['client.port'] as number);
    for (const [r, s, c] of pairByConnection(results, servers.filter(onNodeClient), clientSpans(slice.spans, port).filter(onNodeClient))) {
      for (const x of [s, c]) assert.deepEqual([x.attributes['url.path'], x.attributes['http.response.status_code']], [r.path, r.status], `nginx ${r.path}`);
      assertInside(s, c, `nginx ${r.path}`, stolenMs);
      if (r.warmup) continue;
      // The 10 MB sendfile response too: the client span ends with the last byte read; the server's with the
      // sendfile that handed it over (the client drains the socket buffers after: response in transit).
      timings.add(`nginx client ${r.path}`, durMs(c), r.ms, r.waitedMs);
      timings.addServer(`nginx server ${r.path}`, s, c, r.ms, r.waitedMs);
    }
    timings.check();
  });

  it('the agent itself is never traced; RED histograms count what the spans saw', async () => {
    const port = await freePort();
    procs.spawn(process.execPath, [join(FIXTURES, 'node-server.mjs'), String(port)]);
    await waitForPort(port);
    // This process is the agent: its own client calls must not be traced (the server's side is).
    for (let i = 0; i < 3; i++) assert.equal((await fetch(`http://127.0.0.1:${port}/hello`)).status, 200);
    await nodeClient(procs, { port, requests: [{ method: 'GET', path: '/fail' }, { method: 'GET', path: '/users/9' }] });
    await waitFor(() => serverSpans(slice.spans, port).length >= 6, 10_000, 'server spans');
    await sleep(200);
    const clients = clientSpans(slice.spans, port);
    assert.ok(clients.every((s) => s.resource.attributes['process.pid'] !== process.pid), 'no client span from the agent');
    assert.equal(clients.length, 3, 'the node client: warm-up, /fail, /users/9');
    const servers = serverSpans(slice.spans, port);
    const serverPid = servers[0]!.resource.attributes['process.pid'];
    slice.ctx.pushed.metrics.length = 0;
    slice.tracer.pushMetrics();
    // One histogram per (kind, resource): a process whose service name discovery learned after its first request
    // has a series under each name, so the server process's points are summed over its histograms.
    const hists = slice.ctx.pushed.metrics.filter((m) => m.name === 'http.server.request.duration' && m.resource.attributes['process.pid'] === serverPid);
    assert.ok(hists.length >= 1);
    const points = hists.flatMap((h) => {
      assert.ok(h.type === 'histogram');
      assert.equal(h.unit, 's');
      return h.points;
    });
    const count = (route: string, status: number) => points
      .filter((p) => p.attributes['http.route'] === route && p.attributes['http.response.status_code'] === status)
      .reduce((n, p) => n + p.count, 0);
    assert.equal(count('/hello', 200), 3);
    assert.equal(count('/fail', 500), 1);
    assert.equal(count('/users/{id}', 200), 1);
    for (const p of points) {
      assert.deepEqual(p.explicitBounds, [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]);
      assert.equal(p.bucketCounts.reduce((a, b) => a + b, 0), p.count);
    }
    assert.ok(slice.ctx.pushed.metrics.some((m) => m.name === 'http.client.request.duration'));
  });
});
