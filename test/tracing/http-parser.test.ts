// The HTTP/1.x framing on sparse captured streams: every case the kernel capture produces (keep-alive,
// pipelining, chunked, 100-continue, large bodies seen through 1 KiB windows, bodiless responses, upgrades).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Sim } from './capture-sim.js';
import { SpanKind, StatusCode } from '../../src/model/span.js';
import { toHex } from '../../src/tracing/trace-context.js';

const ok = (body: string, extra = '') => `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n${extra}\r\n${body}`;

describe('HTTP parsing on captured streams', () => {
  it('one request, one server span with semconv attributes and times from the syscalls', () => {
    const sim = new Sim();
    const c = sim.conn();
    c.sys('in', 'GET /users/42?token=secret HTTP/1.1\r\nHost: example.test:8080\r\nUser-Agent: curl/8\r\n\r\n', 1_000_000n);
    c.sys('out', ok('hello'), 5_000_000n);
    assert.equal(sim.spans.length, 1);
    const { span } = sim.spans[0]!;
    assert.equal(span.kind, SpanKind.SERVER);
    assert.equal(span.name, 'GET /users/{id}');
    assert.equal(span.attributes['http.request.method'], 'GET');
    assert.equal(span.attributes['url.path'], '/users/42');
    assert.equal(span.attributes['url.query'], undefined);
    assert.equal(span.attributes['http.route'], '/users/{id}');
    assert.equal(span.attributes['http.response.status_code'], 200);
    assert.equal(span.attributes['server.address'], 'example.test');
    assert.equal(span.attributes['server.port'], 8080);
    assert.equal(span.attributes['client.port'], 40000);
    assert.equal(span.attributes['user_agent.original'], 'curl/8');
    assert.equal(span.attributes['network.protocol.version'], '1.1');
    // Server: start at the request read's exit, end at the response write's exit.
    assert.equal(span.startTimeUnixNano, 1_001_000n);
    assert.equal(span.endTimeUnixNano, 5_001_000n);
    assert.equal(span.status.code, StatusCode.UNSET);
  });

  it('keep-alive: sequential requests each get their own span, in order', () => {
    const sim = new Sim();
    const c = sim.conn();
    for (let i = 0; i < 5; i++) {
      c.sys('in', `GET /r${i} HTTP/1.1\r\nHost: x\r\n\r\n`, BigInt(i) * 10_000n);
      c.sys('out', `HTTP/1.1 ${i === 3 ? 500 : 200} X\r\nContent-Length: 2\r\n\r\nok`, BigInt(i) * 10_000n + 5000n);
    }
    assert.deepEqual(sim.spans.map((s) => s.span.attributes['url.path']), ['/r0', '/r1', '/r2', '/r3', '/r4']);
    assert.equal(sim.spans[3]!.span.status.code, StatusCode.ERROR);
    assert.equal(sim.spans[2]!.span.status.code, StatusCode.UNSET);
  });

  it('pipelined requests in one read, responses in one write: paired in order, none overwritten', () => {
    const sim = new Sim();
    const c = sim.conn();
    c.sys('in', 'GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nPOST /c HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc', 100n);
    c.sys('out', `${ok('A')}HTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nB${ok('C')}`, 900n);
    assert.deepEqual(sim.spans.map((s) => [s.span.attributes['http.request.method'], s.span.attributes['url.path'], s.status]),
      [['GET', '/a', 200], ['GET', '/b', 404], ['POST', '/c', 200]]);
  });

  it('a 10 MB body seen through 1 KiB windows ends at the write that carried its last byte', () => {
    const sim = new Sim();
    const c = sim.conn();
    const size = 10 * 1024 * 1024;
    c.sys('in', 'GET /big HTTP/1.1\r\nHost: x\r\n\r\n', 0n);
    c.sys('out', `HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n`, 10n);
    const body = Buffer.alloc(65536, 0x61);
    let t = 100n;
    for (let sent = 0; sent < size; sent += body.length) c.sys('out', body, (t += 1000n));
    assert.equal(sim.spans.length, 1);
    assert.equal(sim.spans[0]!.span.endTimeUnixNano, t + 1000n);
    assert.equal(sim.spans[0]!.span.attributes['telegen.http.end_inferred'], undefined);
  });

  it('chunked responses: chunk-size lines found by position even when the chunk data was not captured', () => {
    const sim = new Sim();
    const c = sim.conn({ capture: 64 });
    c.sys('in', 'GET /stream HTTP/1.1\r\nHost: x\r\n\r\n', 0n);
    c.sys('out', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', 10n);
    let t = 10n;
    for (let i = 0; i < 5; i++) c.sys('out', `1000\r\n${'z'.repeat(0x1000)}\r\n`, (t += 100n));
    assert.equal(sim.spans.length, 0, 'not finished before the last chunk');
    c.sys('out', '0\r\n\r\n', (t += 100n));
    assert.equal(sim.spans.length, 1);
    assert.equal(sim.spans[0]!.span.endTimeUnixNano, t + 1000n);
    // The next request on the connection still parses.
    c.sys('in', 'GET /next HTTP/1.1\r\nHost: x\r\n\r\n', 20_000n);
    c.sys('out', ok('n'), 21_000n);
    assert.deepEqual(sim.spans.map((s) => s.span.attributes['url.path']), ['/stream', '/next']);
  });

  it('chunked request body and Expect: 100-continue: the interim 100 is not paired', () => {
    const sim = new Sim();
    const c = sim.conn();
    c.sys('in', 'PUT /upload HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n', 0n);
    c.sys('out', 'HTTP/1.1 100 Continue\r\n\r\n', 10n);
    c.sys('in', '5\r\nhello\r\n0\r\n\r\n', 20n);
    c.sys('out', 'HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n', 30n);
    assert.equal(sim.spans.length, 1);
    assert.equal(sim.spans[0]!.status, 201);
    assert.equal(sim.spans[0]!.span.attributes['http.request.method'], 'PUT');
  });

  it('HEAD, 204 and 304 responses have no body even with Content-Length', () => {
    const sim = new Sim();
    const c = sim.conn();
    c.sys('in', 'HEAD /h HTTP/1.1\r\nHost: x\r\n\r\n', 0n);
    c.sys('out', 'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n', 10n);
    c.sys('in', 'DELETE /d HTTP/1.1\r\nHost: x\r\n\r\n', 20n);
    c.sys('out', 'HTTP/1.1 204 No Content\r\n\r\n', 30n);
    c.sys('in', 'GET /c HTTP/1.1\r\nHost: x\r\nIf-None-Match: "x"\r\n\r\n', 40n);
    c.sys('out', 'HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n', 50n);
    assert.deepEqual(sim.spans.map((s) => s.status), [200, 204, 304]);
  });

  it('a response without framing ends at close (HTTP/1.0 style) at its last byte', () => {
    const sim = new Sim();
    const c = sim.conn();
    c.sys('in', 'GET /old HTTP/1.0\r\n\r\n', 0n);
    c.sys('out', 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n', 10n);
    c.sys('out', 'body...', 500n);
    assert.equal(sim.spans.length, 0);
    c.close(9000n);
    assert.equal(sim.spans.length, 1);
    assert.equal(sim.spans[0]!.span.endTimeUnixNano, 1500n);
    assert.equal(sim.spans[0]!.span.attributes['network.protocol.version'], '1.0');
  });

  it('101 Switching Protocols: one span, then WebSocket frames are ignored', () => {
    const sim = new Sim();
    const c = sim.conn();
    c.sys('in', 'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n', 0n);
    c.sys('out', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n', 10n);
    c.sys('in', Buffer.from([0x81, 0x85, 1, 2, 3, 4, 5, 6, 7, 8, 9]), 20n);
    c.sys('in', 'GET /fake HTTP/1.1\r\n\r\n', 30n);
    c.sys('out', ok('x'), 40n);
    assert.equal(sim.spans.length, 1);
    assert.equal(sim.spans[0]!.status, 101);
  });

  it('client role: request written, response read; 4xx is an error; url.full built from Host', () => {
    const sim = new Sim();
    const c = sim.conn({ role: 'client', local: ['127.0.0.1', 50000], remote: ['127.0.0.1', 9000] });
    c.sys('out', 'GET /missing?q=1 HTTP/1.1\r\nHost: localhost:9000\r\n\r\n', 1000n);
    c.sys('in', 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n', 9000n);
    const { span } = sim.spans[0]!;
    assert.equal(span.kind, SpanKind.CLIENT);
    assert.equal(span.name, 'GET');
    assert.equal(span.status.code, StatusCode.ERROR);
    assert.equal(span.attributes['url.full'], 'http://localhost:9000/missing');
    assert.equal(span.attributes['server.port'], 9000);
    // Client: from the request write's enter to the response read's exit.
    assert.equal(span.startTimeUnixNano, 1000n);
    assert.equal(span.endTimeUnixNano, 10_000n);
  });

  it('an incoming traceparent sets the server span trace id and parent', () => {
    const sim = new Sim();
    const c = sim.conn();
    c.sys('in', 'GET / HTTP/1.1\r\nHost: x\r\ntraceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n\r\n', 0n);
    c.sys('out', ok(''), 10n);
    const { span } = sim.spans[0]!;
    assert.equal(toHex(span.traceId), '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(toHex(span.parentSpanId!), '00f067aa0ba902b7');
  });

  it('a client call made by the thread serving a request becomes its child; both ends on the host are linked', () => {
    const sim = new Sim();
    const front = sim.conn({ pid: 10, fd: 3 });
    const call = sim.conn({ pid: 10, fd: 4, role: 'client', local: ['127.0.0.1', 51000], remote: ['127.0.0.1', 9000] });
    const back = sim.conn({ pid: 20, fd: 7, local: ['127.0.0.1', 9000], remote: ['127.0.0.1', 51000] });
    front.sys('in', 'GET /front HTTP/1.1\r\nHost: x\r\n\r\n', 0n, { tid: 11 });
    // The backend may parse its request before the caller's write is seen: linking works both ways.
    back.sys('in', 'GET /back HTTP/1.1\r\nHost: y\r\n\r\n', 110n, { tid: 21 });
    call.sys('out', 'GET /back HTTP/1.1\r\nHost: y\r\n\r\n', 100n, { tid: 11 });
    back.sys('out', ok('b'), 200n, { tid: 21 });
    call.sys('in', ok('b'), 210n, { tid: 11 });
    front.sys('out', ok('f'), 300n, { tid: 11 });
    const byPath = new Map(sim.spans.map((s) => [`${s.span.kind}${s.span.attributes['url.path']}`, s.span]));
    const f = byPath.get(`${SpanKind.SERVER}/front`)!;
    const cl = byPath.get(`${SpanKind.CLIENT}/back`)!;
    const b = byPath.get(`${SpanKind.SERVER}/back`)!;
    assert.deepEqual(cl.parentSpanId, f.spanId);
    assert.deepEqual(b.parentSpanId, cl.spanId);
    assert.deepEqual(cl.traceId, f.traceId);
    assert.deepEqual(b.traceId, f.traceId);
  });

  it('headers cut by the capture window still give a span (end inferred from the next message)', () => {
    const sim = new Sim();
    const c = sim.conn({ capture: 64 });
    c.sys('in', `GET /long HTTP/1.1\r\nHost: x\r\nCookie: ${'c'.repeat(500)}\r\n\r\n`, 0n);
    c.sys('out', ok('x'), 10n);
    assert.equal(sim.spans.length, 1);
    assert.equal(sim.spans[0]!.span.attributes['url.path'], '/long');
  });

  it('heads are parsed in place: bytes next to an event in the batch (a blank line, a colon) are never read', () => {
    // The same syscalls, once with each event alone in its buffer and once surrounded by bytes that would end or
    // extend a head if the parser looked past what was captured.
    const run = (surround?: Uint8Array) => {
      const sim = new Sim();
      const c = sim.conn({ capture: 40, surround });
      c.sys('in', 'GET /split HTTP/1.1\r\nHost: x\r\n', 0n); // head ends in the next read
      c.sys('in', 'User-Agent: ua\r\n\r\n', 1n);
      c.sys('out', ok('one'), 2n);
      c.sys('in', `GET /cut HTTP/1.1\r\nHost: x\r\nCookie: ${'c'.repeat(80)}\r\n\r\n`, 3n); // cut at 40 bytes
      c.sys('out', ok('two'), 4n);
      c.sys('in', 'GET /last HTTP/1.1\r\nContent-Length: 0\r\n\r\n', 5n);
      c.sys('out', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n', 6n); // body in the next write
      c.sys('out', 'end', 7n);
      return sim.spans.map((b) => [b.span.attributes['url.path'], b.status, b.span.attributes['user_agent.original'], b.span.startTimeUnixNano, b.span.endTimeUnixNano]);
    };
    const alone = run();
    assert.deepEqual(alone.map((s) => s[0]), ['/split', '/cut', '/last']);
    assert.equal(alone[0]![2], 'ua');
    for (const around of ['\r\n\r\n', '\n\nContent-Length: 99\r\n\r\n', ': x\r\n', 'HTTP/1.1 500 X\r\n\r\n']) {
      assert.deepEqual(run(Buffer.from(around, 'latin1')), alone, JSON.stringify(around));
    }
  });

  it('headers larger than the bound yield no span and a drop', () => {
    const sim = new Sim();
    const c = sim.conn({ capture: 8192 });
    c.sys('in', 'GET /huge HTTP/1.1\r\n', 0n);
    for (let i = 0; i < 4; i++) c.sys('in', `X-Pad-${i}: ${'p'.repeat(8000)}\r\n`, 1n);
    c.sys('in', '\r\n', 2n);
    c.sys('out', ok('x'), 3n);
    assert.equal(sim.spans.length, 0);
    assert.ok((sim.drops.get('header_too_large') ?? 0) >= 1);
  });

  it('non-HTTP traffic (TLS ClientHello, binary, text protocols) yields no span', () => {
    const sim = new Sim();
    const tls = Buffer.from('160301020001000200030379dbc0e2a5', 'hex');
    const c1 = sim.conn({ fd: 1 });
    c1.sys('in', tls, 0n);
    c1.sys('out', Buffer.from('160303007a0200007603', 'hex'), 1n);
    const c2 = sim.conn({ fd: 2 });
    c2.sys('in', '*1\r\n$4\r\nPING\r\n', 0n);
    c2.sys('out', '+PONG\r\n', 1n);
    const c3 = sim.conn({ fd: 3 });
    c3.sys('in', 'GET / HTTP/2.0\r\n\r\n', 0n);
    c3.sys('out', ok('x'), 1n);
    const c4 = sim.conn({ fd: 4 });
    c4.sys('in', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 0n);
    assert.equal(sim.spans.length, 0);
  });
});
