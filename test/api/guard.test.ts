// Cross-cutting behaviour: bearer auth, per-client rate limiting, CORS — each on and off.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenBucketLimiter } from '../../src/api/rate-limit.js';
import { apiConfig, call, startAgent, validatorFor } from './helpers.js';

const TOKEN = 's3cret-token-for-tests';

describe('bearer auth', () => {
  test('auth on: 401 + WWW-Authenticate + error body without or with a wrong token; 200 with it; probes exempt; admin and debug never', async () => {
    const t = await startAgent(apiConfig(`auth:\n  enabled: true\n  bearer_token: "\${API_TOKEN}"\n  exempt_paths: ["/healthz", "/ready", "/admin/flush", "/debug/vars"]\ndebug:\n  enabled: true`), undefined, { API_TOKEN: TOKEN });
    try {
      const v = await validatorFor(`${t.base}`).catch(() => undefined);
      assert.equal(v, undefined, '/openapi.json itself needs the token');
      const doc = await fetch(`${t.base}/openapi.json`, { headers: { authorization: `Bearer ${TOKEN}` } });
      const { OpenApiValidator } = await import('./helpers.js');
      const val = new OpenApiValidator(await doc.json() as Record<string, unknown>);
      for (const [path, method] of [['/status', 'GET'], ['/metrics', 'GET'], ['/config', 'GET'], ['/admin/flush', 'POST'], ['/admin/reload', 'POST'], ['/debug/vars', 'GET'], ['/api/v1/status', 'GET'], ['/nope', 'GET']] as const) {
        for (const authorization of [undefined, 'Bearer wrong', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`, 'Bearer']) {
          const r = await call(val, t.base, path, { method, headers: authorization ? { authorization } : {} });
          assert.equal(r.status, 401, `${method} ${path} with ${authorization}`);
          assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/);
          assert.equal(JSON.parse(r.body).error, 'unauthorized');
        }
      }
      for (const p of ['/healthz', '/ready', '/api/v1/healthz']) {
        const r = await call(val, t.base, p);
        assert.notEqual(r.status, 401, `${p} is exempt`);
      }
      const ok = await call(val, t.base, '/status', { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(ok.status, 200);
      const ok2 = await call(val, t.base, '/admin/flush', { method: 'POST', headers: { authorization: `bearer ${TOKEN}` } });
      assert.equal(ok2.status, 200, 'scheme is case-insensitive');
      assert.ok(t.logs.snapshot().some((l) => l.includes('exempt_paths') && l.includes('/admin/flush is ignored')));
    } finally { await t.stop(); }
  });

  test('auth off: no token needed anywhere', async () => {
    const t = await startAgent(apiConfig());
    try {
      for (const p of ['/status', '/config', '/metrics']) assert.equal((await fetch(t.base + p)).status, 200, p);
      assert.equal((await fetch(`${t.base}/admin/flush`, { method: 'POST' })).status, 200);
    } finally { await t.stop(); }
  });

  test('auth enabled with an empty token refuses to start the API (fail closed, never open)', async () => {
    const t = await startAgent(apiConfig('auth:\n  enabled: true'));
    try {
      assert.match(String(t.agent.fullStatus().api!.health), /failed: .*bearer_token is empty/);
      assert.equal(t.agent.fullStatus().api!.status && (t.agent.fullStatus().api!.status as { address: unknown }).address, null, 'not listening');
    } finally { await t.stop(); }
  });
});

describe('rate limiting', () => {
  test('limit hit: 429 + Retry-After + error body, per client; refills', async () => {
    const t = await startAgent(apiConfig('rate_limit:\n  enabled: true\n  requests_per_second: 5'));
    try {
      const v = await validatorFor(t.base);
      const codes: number[] = [];
      let limited: Awaited<ReturnType<typeof call>> | undefined;
      for (let i = 0; i < 12; i++) {
        const r = await call(v, t.base, '/healthz');
        codes.push(r.status);
        if (r.status === 429) limited ??= r;
      }
      // The bucket holds 5; fetching /openapi.json above took one of them.
      const passed = codes.filter((c) => c === 200).length;
      assert.ok(passed >= 4 && passed <= 6, codes.join(','));
      assert.deepEqual(codes.slice(0, 4), [200, 200, 200, 200]);
      assert.ok(limited, 'some requests were limited');
      assert.equal(limited.headers.get('retry-after'), '1');
      const e = JSON.parse(limited.body) as { error: string; details: Record<string, number> };
      assert.equal(e.error, 'service_unavailable');
      assert.equal(e.details.requests_per_second, 5);
      await new Promise((r) => setTimeout(r, 1100));
      assert.equal((await fetch(`${t.base}/healthz`)).status, 200, 'the bucket refilled');
      const m = await (await fetch(`${t.base}/metrics`)).text();
      assert.match(m, /^telegen_api_rate_limited_total [1-9]/m);
    } finally { await t.stop(); }
  });

  test('rate limit off: bursts pass', async () => {
    const t = await startAgent(apiConfig());
    try {
      const rs = await Promise.all(Array.from({ length: 50 }, () => fetch(`${t.base}/healthz`).then((r) => r.status)));
      assert.ok(rs.every((s) => s === 200));
    } finally { await t.stop(); }
  });

  test('the client table is bounded and counts what it forgets', () => {
    let dropped = 0;
    const l = new TokenBucketLimiter(2, 3, () => dropped++);
    for (const c of ['a', 'b', 'c', 'd', 'e']) assert.equal(l.take(c, 0), 0);
    assert.equal(l.clients, 3);
    assert.equal(dropped, 2);
    assert.equal(l.take('e', 0), 0);
    assert.equal(l.take('e', 0), 1, 'bucket of 2 emptied: wait 1 s');
    assert.equal(l.take('e', 500), 0, 'half a second refills one token at 2/s');
  });
});

describe('CORS', () => {
  const ORIGIN = 'http://localhost:3000';
  test('allowed origin gets CORS headers and a preflight; a denied origin gets none and a 403 preflight', async () => {
    const t = await startAgent(apiConfig(`cors:\n  enabled: true\n  allowed_origins: ["${ORIGIN}"]\nauth:\n  enabled: true\n  bearer_token: "${TOKEN}"`));
    try {
      const auth = { authorization: `Bearer ${TOKEN}` };
      const r = await fetch(`${t.base}/status`, { headers: { origin: ORIGIN, ...auth } });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('access-control-allow-origin'), ORIGIN);
      assert.match(r.headers.get('vary') ?? '', /Origin/);
      const unauth = await fetch(`${t.base}/status`, { headers: { origin: ORIGIN } });
      assert.equal(unauth.status, 401);
      assert.equal(unauth.headers.get('access-control-allow-origin'), ORIGIN, 'a browser can read the 401');

      const pre = await fetch(`${t.base}/admin/reload`, { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' } });
      assert.equal(pre.status, 204, 'preflight needs no token');
      assert.equal(pre.headers.get('access-control-allow-origin'), ORIGIN);
      assert.equal(pre.headers.get('access-control-allow-methods'), 'POST, OPTIONS');
      assert.equal(pre.headers.get('access-control-allow-headers'), 'authorization');
      assert.ok(Number(pre.headers.get('access-control-max-age')) > 0);

      const evil = 'http://evil.example';
      const d = await fetch(`${t.base}/status`, { headers: { origin: evil, ...auth } });
      assert.equal(d.status, 200);
      assert.equal(d.headers.get('access-control-allow-origin'), null);
      const dpre = await fetch(`${t.base}/status`, { method: 'OPTIONS', headers: { origin: evil, 'access-control-request-method': 'GET' } });
      assert.equal(dpre.status, 403);
      assert.equal(dpre.headers.get('access-control-allow-origin'), null);
      assert.equal((await dpre.json() as { error: string }).error, 'forbidden');
    } finally { await t.stop(); }
  });

  test('CORS off: no CORS headers for anyone; preflight 403', async () => {
    const t = await startAgent(apiConfig());
    try {
      const r = await fetch(`${t.base}/status`, { headers: { origin: ORIGIN } });
      assert.equal(r.headers.get('access-control-allow-origin'), null);
      const pre = await fetch(`${t.base}/status`, { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'GET' } });
      assert.equal(pre.status, 403);
    } finally { await t.stop(); }
  });
});
