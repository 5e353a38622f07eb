import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { spawnAgent, tempConfig, msg, QUIET_CONFIG } from '../helpers/spawn-agent.js';

const cleanEnv = () => ({ PATH: process.env.PATH, HOME: process.env.HOME });

test('run: SIGUSR1 dumps status; SIGHUP with a broken file keeps the old config; SIGHUP with a good one applies; SIGTERM exits 0', async (t) => {
  const { dir, file } = tempConfig(QUIET_CONFIG);
  const good = QUIET_CONFIG.replaceAll('$DIR', dir);
  const agent = spawnAgent(['run', '-c', file], { env: cleanEnv() });
  t.after(() => agent.kill('SIGKILL'));
  await agent.waitFor(msg('telegen started'));

  agent.kill('SIGUSR1');
  const dump = await agent.waitFor(msg('SIGUSR1 status dump'));
  assert.ok(typeof dump.status === 'object' && dump.status !== null && 'export' in dump.status);
  assert.ok(typeof dump.readiness === 'object');

  writeFileSync(file, good + 'log_level: loud\n');
  agent.kill('SIGHUP');
  const refused = await agent.waitFor(msg('reload refused'));
  assert.match(JSON.stringify(refused.errors), /log_level/);
  assert.match(JSON.stringify(refused.errors), /config\.yaml:\d+:\d+/, 'names the line');
  await agent.waitFor(msg('SIGHUP reload failed'));
  assert.equal(agent.proc.exitCode, null, 'still running');

  writeFileSync(file, good + 'log_level: debug\n');
  agent.kill('SIGHUP');
  await agent.waitFor(msg('configuration reloaded'));

  agent.kill('SIGTERM');
  assert.equal(await agent.exited, 0);
  assert.ok(agent.lines.some(msg('shutting down')) && agent.lines.some(msg('stopped')));
});

test('run: an invalid configuration exits 2 naming the key and line', async () => {
  const { file } = tempConfig('mode: agnet\n');
  const agent = spawnAgent(['-c', file], { env: cleanEnv() });
  assert.equal(await agent.exited, 2);
  assert.match(agent.stderr(), /config\.yaml:1:7: error: mode: invalid value/);
});

test('run: --log-format text and --log-level flags win over the file', async (t) => {
  const { file } = tempConfig(QUIET_CONFIG + 'log_format: json\nlog_level: error\n');
  const agent = spawnAgent(['-c', file, '--log-format', 'text', '-l', 'info'], { env: cleanEnv() });
  t.after(() => agent.kill('SIGKILL'));
  await agent.waitFor((l) => l.raw === true && String(l.msg).includes('INFO') && String(l.msg).includes('telegen started'));
  agent.kill('SIGINT');
  assert.equal(await agent.exited, 0);
});

test('npm start path: no config file anywhere → embedded defaults; Ctrl-C (SIGINT) shuts down cleanly', async (t) => {
  const { dir } = tempConfig('');
  const agent = spawnAgent([], { env: cleanEnv(), cwd: dir });
  t.after(() => agent.kill('SIGKILL'));
  const loaded = await agent.waitFor(msg('configuration loaded'), 30000);
  assert.equal(loaded.config, 'embedded defaults');
  await agent.waitFor(msg('telegen started'), 60000);
  agent.kill('SIGINT');
  assert.equal(await agent.exited, 0);
  assert.ok(agent.lines.some(msg('stopped')));
});
