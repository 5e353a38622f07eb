// The user-space path of HTTP tracing in isolation, on the compiled code (dist/): ring-buffer batches laid out
// exactly as bpf/http.bpf.c ships them (nginx-like keep-alive exchanges: a 75-byte request read, a 540-byte
// response write; "both": the client's write and read too) go through the event reader, the HTTP processor
// (parse, pair, trace context, span) and the RED histograms, as HttpTracer does. Prints
// {"server": µs per exchange, "both": µs per exchange} (the best of 5 rounds; the harness's re-stamping of
// positions and timestamps between batches is timed and taken out).
import { HTTP_EVENT_SIZE, HttpEventOffsets as O, HttpEventReader } from '../../dist/tracing/http-event.js';
import { HttpProcessor } from '../../dist/tracing/http-processor.js';
import { RedMetrics } from '../../dist/tracing/red-metrics.js';

const REQ = Buffer.from('GET /index.html HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: bench\r\n\r\n', 'latin1');
const BODY = '<h1>bench</h1>\n'.repeat(20);
const RES = Buffer.from(`HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Tue, 24 Nov 2026 23:00:00 GMT\r\nContent-Type: text/html\r\nContent-Length: ${BODY.length}\r\nLast-Modified: Tue, 24 Nov 2026 22:00:00 GMT\r\nConnection: keep-alive\r\nETag: "abc-12c"\r\nAccept-Ranges: bytes\r\n\r\n${BODY}`, 'latin1');
const CONNECTIONS = 16;
const PER_BATCH = 200; // exchanges per batch (a 20 ms poll at 10k req/s)
const BATCHES = Number(process.env.MICRO_BATCHES ?? 1500);

function run(both) {
  // One batch laid out once; each round re-stamps positions and timestamps in place.
  const buf = Buffer.alloc(PER_BATCH * 4 * 700);
  const events = []; // { at, key, length }
  let at = 0;
  const put = (conn, role, dir, data, pid, lport, rport) => {
    const size = HTTP_EVENT_SIZE + data.length;
    buf.writeUInt32LE(3, at + O.kind);
    buf.writeUInt32LE(size, at + O.size);
    buf.writeUInt32LE(conn, at + O.conn_id);
    buf.writeUInt32LE(pid, at + O.pid);
    buf.writeUInt32LE(pid, at + O.tid);
    buf.writeUInt32LE(10 + conn, at + O.fd);
    buf.writeUInt32LE(data.length, at + O.length);
    buf.writeUInt32LE(data.length, at + O.captured);
    buf[at + O.type] = 1;
    buf[at + O.direction] = dir;
    buf[at + O.role] = role;
    buf[at + O.family] = 2;
    buf.writeUInt16LE(lport, at + O.lport);
    buf.writeUInt16LE(rport, at + O.rport);
    buf[at + O.laddr] = 127; buf[at + O.laddr + 3] = 1; buf[at + O.raddr] = 127; buf[at + O.raddr + 3] = 1;
    data.copy(buf, at + O.data);
    events.push({ at, key: conn * 2 + dir, length: data.length });
    at += (size + 7) & ~7;
  };
  for (let i = 0; i < PER_BATCH; i++) {
    const c = i % CONNECTIONS;
    const cport = 40000 + c;
    if (both) put(100 + c, 2, 1, REQ, 500, cport, 8080);
    put(1 + c, 1, 0, REQ, 400, 8080, cport);
    put(1 + c, 1, 1, RES, 400, 8080, cport);
    if (both) put(100 + c, 2, 0, RES, 500, cport, 8080);
  }
  const positions = new Map();
  let ts = 1e9;
  const restamp = () => {
    for (const e of events) {
      const p = positions.get(e.key) ?? 0;
      positions.set(e.key, p + e.length);
      buf.writeUInt32LE(p % 4294967296, e.at + O.position);
      buf.writeUInt32LE(Math.floor(p / 4294967296), e.at + O.position + 4);
      ts += 10_000;
      buf.writeUInt32LE(ts % 4294967296, e.at + O.ts_enter);
      buf.writeUInt32LE(Math.floor(ts / 4294967296), e.at + O.ts_enter + 4);
      buf.writeUInt32LE((ts + 1000) % 4294967296, e.at + O.timestamp_ns);
      buf.writeUInt32LE(Math.floor((ts + 1000) / 4294967296), e.at + O.timestamp_ns + 4);
    }
  };
  const resources = new Map();
  const red = new RedMetrics(2000);
  let spans = [];
  let total = 0;
  const processor = new HttpProcessor({
    keepQuery: false, routePatterns: [], maxConnections: 65536, toWall: (ns) => ns + 1_700_000_000_000_000_000n,
    resourceFor: (pid) => {
      if (!resources.has(pid)) resources.set(pid, { attributes: { 'service.name': `svc${pid}`, 'process.pid': pid, 'host.name': 'bench' } });
      return resources.get(pid);
    },
    onSpan: (b, kind, seconds) => {
      spans.push(b.span);
      red.record(kind, b.span.resource, b.method, b.status, b.route, seconds, b.span.endTimeUnixNano);
    },
    onDrop: (r) => {
      throw new Error(`unexpected drop: ${r}`);
    },
  });
  const reader = new HttpEventReader();
  const rounds = [];
  const per = Math.floor(BATCHES / 5);
  for (let r = 0; r < 5; r++) {
    let harness = 0n;
    const t0 = process.hrtime.bigint();
    for (let b = 0; b < per; b++) {
      const h0 = process.hrtime.bigint();
      restamp();
      harness += process.hrtime.bigint() - h0;
      for (const e of events) {
        reader.read(buf, e.at);
        processor.handle(reader);
      }
      total += spans.length;
      spans = [];
    }
    rounds.push(Number(process.hrtime.bigint() - t0 - harness) / (per * PER_BATCH) / 1000);
  }
  const expected = 5 * per * PER_BATCH * (both ? 2 : 1);
  if (total !== expected) throw new Error(`spans: ${total}, expected ${expected}`);
  return Math.min(...rounds);
}

process.stdout.write(`${JSON.stringify({ server: run(false), both: run(true) })}\n`);
