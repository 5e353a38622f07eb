// The real binary (`node bin/telegen.js run`, built by the set-up): the API comes up where the log line says,
// answers with auth from ${API_TOKEN}, reloads from the file through POST /admin/reload, serves recent logs at
// /debug/vars, and the process exits 0 on SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { QUIET_CONFIG, spawnAgent, tempConfig, msg } from '../helpers/spawn-agent.js';

const TOKEN = 'e2e-token-abcdef';
const CONFIG = QUIET_CONFIG.replace('  listen: "127.0.0.1:0"\n', `  listen: "127.0.0.1:0"\n  auth:\n    enabled: true\n    bearer_token: "\${API_TOKEN}"\n  debug:\n    enabled: true\n`);

test('spawned agent: API address from the log, auth, reload, recent logs, clean exit', { skip: !existsSync(join(process.cwd(), 'dist', 'cli', 'main.js')) && 'dist/ not built (bash scripts/build.sh)' }, async (t) => {
  const { file, dir } = tempConfig(CONFIG);
  const agent = spawnAgent(['run', '-c', file], { env: { PATH: process.env.PATH, HOME: process.env.HOME, API_TOKEN: TOKEN } });
  t.after(() => agent.kill('SIGKILL'));
  const line = await agent.waitFor(msg('api listening'));
  const base = line.address as string;
  assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/);
  await agent.waitFor(msg('telegen started'));
  const auth = { authorization: `Bearer ${TOKEN}` };

  assert.equal((await fetch(`${base}/healthz`)).status, 200, 'probe exempt');
  assert.equal((await fetch(`${base}/status`)).status, 401);
  const status = await (await fetch(`${base}/api/v1/status`, { headers: auth })).json() as { mode: string; host: { kernel: string } };
  assert.equal(status.mode, 'agent');
  const config = await (await fetch(`${base}/config`, { headers: auth })).text();
  assert.ok(!config.includes(TOKEN), 'the token is redacted in /config');
  assert.match(config, /"bearer_token":"<redacted>"/);

  writeFileSync(file, CONFIG.replaceAll('$DIR', dir) + 'log_level: debug\n');
  const r = await fetch(`${base}/admin/reload`, { method: 'POST', headers: auth });
  assert.equal(r.status, 200);
  await agent.waitFor(msg('configuration reloaded'));
  const cfg = await (await fetch(`${base}/config`, { headers: auth })).json() as { log_level: string };
  assert.equal(cfg.log_level, 'debug');

  const vars = await (await fetch(`${base}/debug/vars`, { headers: auth })).json() as { cmdline: string[]; recent_logs: string[] };
  assert.ok(vars.cmdline.includes('run') && vars.cmdline.includes(file));
  assert.ok(vars.recent_logs.some((l) => l.includes('configuration reloaded')), 'recent logs come from the running agent');
  assert.ok(!vars.recent_logs.some((l) => l.includes(TOKEN)), 'secrets scrubbed from logs');

  agent.kill('SIGTERM');
  assert.equal(await agent.exited, 0);
});
