// POST /admin/reload: good (applied without a restart, including the API's own settings and address), bad
// (400 naming key and line; the running configuration is kept), failed apply (500; everything rolled back).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { Subsystem } from '../../src/agent/subsystem.js';
import type { TelegenConfig } from '../../src/config/schema.js';
import { apiConfig, call, startAgent, validatorFor } from './helpers.js';
import { freePort } from '../helpers/net.js';

const TOKEN = 'reload-token-123';

test('reload good: auth, debug and CORS apply to the next request, no restart', async () => {
  const t = await startAgent(apiConfig());
  try {
    const v = await validatorFor(t.base);
    const base = t.base;
    assert.equal((await call(v, base, '/debug/vars')).status, 404);
    t.write(apiConfig(`auth:\n  enabled: true\n  bearer_token: "${TOKEN}"\ndebug:\n  enabled: true\ncors:\n  enabled: true\n  allowed_origins: ["*"]`));
    const r = await call(v, base, '/admin/reload', { method: 'POST' });
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { status: 'ok', message: 'Configuration reloaded' });
    assert.equal(t.base, base, 'same address');
    assert.equal((await call(v, base, '/status')).status, 401, 'auth now on');
    const auth = { authorization: `Bearer ${TOKEN}` };
    const vars = await call(v, base, '/debug/vars', { headers: { ...auth, origin: 'http://any.example' } });
    assert.equal(vars.status, 200, 'debug now on');
    assert.equal(vars.headers.get('access-control-allow-origin'), 'http://any.example');
    assert.equal(t.agent.config().self_telemetry.auth.enabled, true);
  } finally { await t.stop(); }
});

test('reload good: a new listen address moves the API (old port released) and logs "api listening" again', async () => {
  const t = await startAgent(apiConfig());
  try {
    const v = await validatorFor(t.base);
    const old = t.base;
    const port = await freePort();
    t.write(apiConfig().replace('127.0.0.1:0', `127.0.0.1:${port}`));
    const r = await call(v, old, '/admin/reload', { method: 'POST' });
    assert.equal(r.status, 200, 'the old listener answers the reload that moves it');
    assert.equal(t.base, `http://127.0.0.1:${port}`);
    assert.equal((await fetch(`${t.base}/healthz`)).status, 200);
    await new Promise((res) => setTimeout(res, 100));
    await assert.rejects(fetch(`${old}/healthz`), 'the old address is closed');
    assert.ok(t.logs.snapshot().some((l) => l.includes(`"address":"http://127.0.0.1:${port}"`) && l.includes('api listening')));
  } finally { await t.stop(); }
});

test('reload bad: 400 invalid_request with the key path and line; the running configuration is kept', async () => {
  const t = await startAgent(apiConfig());
  try {
    const v = await validatorFor(t.base);
    const before = t.agent.config();
    t.write(`${apiConfig()}\notlp:\n  protocol: carrier-pigeon\n`);
    const r = await call(v, t.base, '/admin/reload', { method: 'POST' });
    assert.equal(r.status, 400);
    const e = JSON.parse(r.body) as { error: string; details: { path: string; line: number; location: string; issues: unknown[] } };
    assert.equal(e.error, 'invalid_request');
    assert.equal(e.details.path, 'otlp.protocol');
    const expectedLine = `${apiConfig()}\notlp:\n  protocol: carrier-pigeon\n`.split('\n').findIndex((l) => l.includes('carrier-pigeon')) + 1;
    assert.equal(e.details.line, expectedLine);
    assert.match(e.details.location, /config\.yaml:\d+:\d+/);
    assert.equal(t.agent.config(), before, 'same configuration object still running');

    t.write('self_telemetry: [unclosed\n');
    const y = await call(v, t.base, '/admin/reload', { method: 'POST' });
    assert.equal(y.status, 400);
    assert.equal(typeof (JSON.parse(y.body) as { details: { line: unknown } }).details.line, 'number', 'YAML syntax errors carry their line');
    assert.equal((await fetch(`${t.base}/healthz`)).status, 200, 'still serving');
  } finally { await t.stop(); }
});

test('reload failed-apply: a subsystem that cannot apply → 500 internal_error, everything rolled back', async () => {
  const seen: Array<TelegenConfig> = [];
  const picky: Subsystem = {
    name: 'picky', async start() {}, async stop() {}, health: () => 'ok', status: () => ({}),
    async reload(c) {
      seen.push(c);
      if (c.log_level === 'debug') throw new Error('cannot apply log_level debug');
    },
  };
  const t = await startAgent(apiConfig(), () => [picky]);
  try {
    const v = await validatorFor(t.base);
    const base = t.base;
    const port = await freePort();
    // The API itself is reloaded before `picky` (it starts first): its move to a new port must be undone too.
    t.write(`${apiConfig(`auth:\n  enabled: true\n  bearer_token: "${TOKEN}"`).replace('127.0.0.1:0', `127.0.0.1:${port}`)}log_level: debug\n`);
    const r = await call(v, base, '/admin/reload', { method: 'POST' });
    assert.equal(r.status, 500);
    const e = JSON.parse(r.body) as { error: string; message: string; details: { subsystem: string; rolled_back: boolean } };
    assert.equal(e.error, 'internal_error');
    assert.deepEqual(e.details, { subsystem: 'picky', rolled_back: true });
    assert.match(e.message, /cannot apply log_level debug/);
    assert.equal(t.agent.config().log_level, 'info');
    assert.equal(seen.at(-1)?.log_level, 'info', 'picky got the old configuration back');
    await new Promise((res) => setTimeout(res, 100));
    assert.equal((await fetch(`${t.base}/status`)).status, 200, 'auth rolled back to off');
    assert.equal(t.base.endsWith(`:${port}`), false, 'listen rolled back');
  } finally { await t.stop(); }
});

test('reload failed-apply: the API cannot bind the new address → 500, old listener keeps serving', async () => {
  const blocker = createServer();
  await new Promise<void>((res) => blocker.listen(0, '127.0.0.1', res));
  const busy = (blocker.address() as { port: number }).port;
  const t = await startAgent(apiConfig());
  try {
    const v = await validatorFor(t.base);
    t.write(apiConfig().replace('127.0.0.1:0', `127.0.0.1:${busy}`));
    const r = await call(v, t.base, '/admin/reload', { method: 'POST' });
    assert.equal(r.status, 500);
    const e = JSON.parse(r.body) as { details: { subsystem: string }; message: string };
    assert.equal(e.details.subsystem, 'api');
    assert.match(e.message, /EADDRINUSE/);
    assert.equal((await fetch(`${t.base}/healthz`)).status, 200);
  } finally {
    await t.stop();
    blocker.close();
  }
});

test('concurrent reloads are each answered', async () => {
  const t = await startAgent(apiConfig());
  try {
    const rs = await Promise.all([1, 2, 3].map(() => fetch(`${t.base}/admin/reload`, { method: 'POST' }).then((r) => r.status)));
    assert.deepEqual(rs, [200, 200, 200]);
  } finally { await t.stop(); }
});

