// Garbage in, never a 5xx or a crash out: raw sockets with broken request lines, huge headers, odd methods,
// long paths, bad JSON and random bytes; afterwards the API still answers.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { apiConfig, startAgent, type TestAgent } from './helpers.js';

let t: TestAgent;
before(async () => { t = await startAgent(apiConfig('debug:\n  enabled: true\nauth:\n  enabled: false')); });
after(async () => { await t?.stop(); });

/** Sends raw bytes, returns the status code of the first response (or null when the server just closed). */
function raw(payload: Buffer | string): Promise<{ status: number | null; text: string }> {
  const { hostname, port } = new URL(t.base);
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), hostname);
    let data = '';
    s.setTimeout(5000, () => { s.destroy(); resolve({ status: null, text: data }); });
    s.on('data', (d) => { data += d.toString('latin1'); });
    s.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' || e.code === 'EPIPE' ? resolve({ status: null, text: data }) : reject(e)));
    s.on('close', () => resolve({ status: data ? Number(/^HTTP\/1\.[01] (\d{3})/.exec(data)?.[1] ?? NaN) : null, text: data }));
    s.end(payload);
  });
}

const req = (line: string, headers: string[] = [], body = '') =>
  `${line}\r\nHost: x\r\nConnection: close\r\n${headers.map((h) => `${h}\r\n`).join('')}${body ? `Content-Length: ${Buffer.byteLength(body)}\r\n` : ''}\r\n${body}`;

test('crafted garbage: every answer is < 500 and in the error format', async () => {
  const cases: Array<[string, string | Buffer]> = [
    ['bad JSON', req('POST /admin/flush HTTP/1.1', ['Content-Type: application/json'], '{"a":')],
    ['JSON null body', req('POST /admin/reload HTTP/1.1', ['Content-Type: application/json'], 'nul')],
    ['huge body', req('POST /admin/flush HTTP/1.1', ['Content-Type: application/json'], `[${'1,'.repeat(100_000)}1]`)],
    ['odd content type', req('POST /admin/flush HTTP/1.1', ['Content-Type: application/x-unknown'], '\x00\x01\x02')],
    ['huge header', req('GET /status HTTP/1.1', [`X-Big: ${'a'.repeat(64 * 1024)}`])],
    ['many headers', req('GET /status HTTP/1.1', Array.from({ length: 3000 }, (_, i) => `X-H${i}: v`))],
    ['long path', req(`GET /${'a/'.repeat(20_000)} HTTP/1.1`)],
    ['long known-prefix path', req(`GET /status/${'x'.repeat(4000)} HTTP/1.1`)],
    ['odd method', req('BREW /status HTTP/1.1')],
    ['PROPFIND', req('PROPFIND /status HTTP/1.1')],
    ['lowercase method', req('get /status HTTP/1.1')],
    ['no version', 'GET /status\r\n\r\n'],
    ['HTTP/9', req('GET /status HTTP/9.9')],
    ['absolute URI', req('GET http://evil/status HTTP/1.1')],
    ['percent garbage', req('GET /%zz%00%ff/status HTTP/1.1')],
    ['bad query', req('GET /debug/pprof/profile?seconds=%ff%fe&seconds=2&seconds=x HTTP/1.1')],
    ['negative seconds', req('GET /debug/pprof/profile?seconds=-5 HTTP/1.1')],
    ['huge seconds', req('GET /debug/pprof/profile?seconds=99999999999999999999 HTTP/1.1')],
    ['bad content-length', 'POST /admin/flush HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n'],
    ['two content-lengths', 'POST /admin/flush HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab'],
    ['chunked garbage', 'POST /admin/flush HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nzz\r\n'],
    ['header without colon', 'GET /status HTTP/1.1\r\nHost x\r\n\r\n'],
    ['bad authorization', req('GET /status HTTP/1.1', [`Authorization: Bearer ${'\u00ff'.repeat(1000)}`])],
    ['bad origin', req('OPTIONS /status HTTP/1.1', ['Origin: \u00ff\u00fe', 'Access-Control-Request-Method: GET'])],
    ['binary', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256))],
    ['only CRLF', '\r\n\r\n\r\n'],
  ];
  for (const [name, payload] of cases) {
    const r = await raw(payload);
    if (r.status !== null) {
      assert.ok(r.status < 500, `${name}: status ${r.status}\n${r.text.slice(0, 400)}`);
      if (r.status >= 400) assert.match(r.text, /"error":"(invalid_request|not_found|unauthorized|forbidden)"/, `${name}: error format\n${r.text.slice(0, 400)}`);
    }
  }
  assert.equal((await fetch(`${t.base}/healthz`)).status, 200, 'still alive');
});

test('random requests (seeded): no 5xx, no crash', async () => {
  let seed = 42;
  const rand = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'TRACE', 'SEARCH'];
  const pieces = ['status', 'api', 'v1', 'debug', 'pprof', 'admin', 'reload', 'flush', 'metrics', '..', '%2e', '', 'ready', 'healthz', 'config', '?', '&', '=', '#', '%'];
  const bodies = ['', '{}', '{"x":1}', '[', 'null', '"', '\u0000', '{"__proto__":{"a":1}}'];
  const codes = new Map<number, number>();
  for (let i = 0; i < 300; i++) {
    const path = '/' + Array.from({ length: 1 + rand(5) }, () => pieces[rand(pieces.length)]).join('/');
    const method = methods[rand(methods.length)]!;
    const body = method === 'GET' || method === 'HEAD' ? '' : bodies[rand(bodies.length)]!;
    // /debug/pprof/profile would legitimately take 30 s; the fuzz is about parsing, not profiling.
    if (path.includes('profile')) continue;
    const r = await raw(req(`${method} ${path} HTTP/1.1`, body ? ['Content-Type: application/json'] : [], body));
    if (r.status !== null) codes.set(r.status, (codes.get(r.status) ?? 0) + 1);
    assert.ok(r.status === null || r.status < 500, `${method} ${path} ${JSON.stringify(body)} → ${r.status}\n${r.text.slice(0, 300)}`);
  }
  assert.ok((codes.get(404) ?? 0) > 0 && [...codes.keys()].some((c) => c === 405 || c === 400), JSON.stringify([...codes]));
  assert.equal((await fetch(`${t.base}/healthz`)).status, 200);
});
