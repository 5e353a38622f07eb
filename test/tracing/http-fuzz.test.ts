// Fuzzing the parser with what real hosts carry besides HTTP (random bytes, TLS records, other protocols),
// with mutated and re-chunked HTTP, and with random capture windows: it never throws, never emits a span for
// traffic that holds no HTTP exchange, and never emits more spans than requests.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Sim } from './capture-sim.js';

/** A small deterministic PRNG so a failure reproduces from its seed. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 2 ** 32;
  };
}

const int = (r: () => number, n: number) => Math.floor(r() * n);

function randomBytes(r: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = int(r, 256);
  return b;
}

/** Split a byte string into syscalls of random sizes. */
function chunks(r: () => number, data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length;) {
    const n = 1 + int(r, Math.min(4096, data.length - i));
    out.push(data.subarray(i, i + n));
    i += n;
  }
  return out;
}

function validExchange(r: () => number, i: number): { req: string; res: string } {
  const body = 'b'.repeat(int(r, 3000));
  const chunked = r() < 0.3;
  const req = r() < 0.2
    ? `POST /p${i}?q=${i} HTTP/1.1\r\nHost: h\r\nContent-Length: ${body.length}\r\n\r\n${body}`
    : `GET /g${i} HTTP/1.1\r\nHost: h\r\nUser-Agent: fuzz\r\n\r\n`;
  const res = chunked
    ? `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`.replace(/^([^]*?)0\r\n\r\n0\r\n\r\n$/, '$10\r\n\r\n')
    : `HTTP/1.1 ${[200, 404, 500][int(r, 3)]} X\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  return { req, res };
}

describe('parser fuzzing', () => {
  it('random bytes, TLS records and other protocols: no span, no throw', () => {
    const sim = new Sim();
    const r = rng(1234);
    const tlsHello = Buffer.from('16030100f4010000f00303', 'hex');
    for (let c = 0; c < 300; c++) {
      const conn = sim.conn({ fd: c, capture: [64, 1024, 8192][c % 3], role: c % 2 ? 'client' : 'server' });
      for (let k = 0; k < 8; k++) {
        const pick = int(r, 4);
        const data = pick === 0 ? randomBytes(r, 1 + int(r, 5000))
          : pick === 1 ? Buffer.concat([tlsHello, randomBytes(r, int(r, 400))])
            : pick === 2 ? Buffer.from(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${k}\r\n`)
              : Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello`); // a response with no request
        conn.sys(r() < 0.5 ? 'in' : 'out', data, BigInt(k * 1000));
      }
      conn.close(10_000n);
    }
    assert.equal(sim.spans.length, 0);
  });

  it('valid exchanges re-chunked at random with random capture windows: exact spans when captured fully', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const r = rng(seed);
      const sim = new Sim();
      const conn = sim.conn({ capture: 8192 });
      const n = 1 + int(r, 10);
      let t = 0n;
      const expected: string[] = [];
      for (let i = 0; i < n; i++) {
        const { req, res } = validExchange(r, i);
        expected.push(req.split(' ')[1]!.split('?')[0]!);
        for (const c of chunks(r, Buffer.from(req))) conn.sys('in', c, (t += 10n));
        for (const c of chunks(r, Buffer.from(res))) conn.sys('out', c, (t += 10n));
      }
      assert.equal(sim.spans.length, n, `seed ${seed}`);
      assert.deepEqual(sim.spans.map((s) => s.span.attributes['url.path']), expected, `seed ${seed}`);
    }
  });

  it('mutated HTTP (bit flips, truncation, insertions) with 64-byte windows: never throws, never more spans than requests', () => {
    for (let seed = 100; seed < 400; seed++) {
      const r = rng(seed);
      const sim = new Sim();
      const conn = sim.conn({ capture: [64, 256, 1024][seed % 3] });
      const n = 1 + int(r, 6);
      let t = 0n;
      for (let i = 0; i < n; i++) {
        const { req, res } = validExchange(r, i);
        const mutate = (s: string) => {
          const b = Buffer.from(s);
          const op = int(r, 4);
          if (op === 0) for (let k = 0; k < 3; k++) b[int(r, b.length)] ^= 1 << int(r, 8);
          if (op === 1) return b.subarray(0, int(r, b.length));
          if (op === 2) return Buffer.concat([b.subarray(0, int(r, b.length)), randomBytes(r, int(r, 50)), b]);
          return b;
        };
        for (const c of chunks(r, mutate(req))) conn.sys('in', c, (t += 10n));
        for (const c of chunks(r, mutate(res))) conn.sys('out', c, (t += 10n));
      }
      conn.close(t + 10n);
      assert.ok(sim.spans.length <= n, `seed ${seed}: ${sim.spans.length} spans for ${n} requests`);
      for (const s of sim.spans) assert.ok(s.span.endTimeUnixNano >= s.span.startTimeUnixNano);
    }
  });

  it('state stays bounded: a never-ending header is cut at the bound', () => {
    const sim = new Sim();
    const conn = sim.conn({ capture: 8192 });
    conn.sys('in', 'GET / HTTP/1.1\r\n', 0n);
    for (let i = 0; i < 100; i++) conn.sys('in', `X-${i}: ${'a'.repeat(4000)}\r\n`, BigInt(i));
    assert.equal(sim.spans.length, 0);
    assert.ok((sim.drops.get('header_too_large') ?? 0) >= 1);
  });
});
