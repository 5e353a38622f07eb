import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { reexecArgv, RUNTIME_FLAGS } from '../../src/cli/runtime-flags.js';
import { spawnAgent, tempConfig, msg, QUIET_CONFIG } from '../helpers/spawn-agent.js';

const NODE = '/usr/bin/node';
const SCRIPT = '/opt/telegen/bin/telegen.js';

test('runtime flags: run (explicit, implied by flags, or by nothing) is restarted with the V8 flags before its own', () => {
  for (const args of [['run', '-c', 'x.yaml'], [], ['-c', 'x.yaml'], ['--mode', 'collector']]) {
    assert.deepEqual(reexecArgv([NODE, SCRIPT, ...args], ['--trace-warnings'], {}, NODE), [NODE, '--trace-warnings', ...RUNTIME_FLAGS, SCRIPT, ...args]);
  }
});

test('runtime flags: short-lived commands, flags already given (argv or NODE_OPTIONS) and TELEGEN_NODE_FLAGS="" are left alone', () => {
  for (const args of [['version'], ['--help'], ['-v'], ['validate', '-c', 'x'], ['diagnostics']]) assert.equal(reexecArgv([NODE, SCRIPT, ...args], [], {}, NODE), undefined);
  assert.equal(reexecArgv([NODE, SCRIPT, 'run'], ['--max-semi-space-size=16', '--bytecode-old-age=3', '--heap-growing-percent=100'], {}, NODE), undefined, 'operator flags on the command line win');
  assert.equal(reexecArgv([NODE, SCRIPT, 'run'], ['--max_semi_space_size=16', '--bytecode_old_age=3', '--heap_growing_percent=100'], {}, NODE), undefined, 'underscore spelling too');
  assert.equal(reexecArgv([NODE, SCRIPT, 'run'], [], { NODE_OPTIONS: '--max-semi-space-size=4 --bytecode-old-age=3 --heap-growing-percent=100' }, NODE), undefined, 'NODE_OPTIONS wins');
  // Flag by flag: the operator's own semi-space size is kept, and the flags it does not name are still added.
  assert.deepEqual(reexecArgv([NODE, SCRIPT, 'run'], ['--max-semi-space-size=16'], {}, NODE),
    [NODE, '--max-semi-space-size=16', ...RUNTIME_FLAGS.filter((f) => !f.startsWith('--max-semi-space-size')), SCRIPT, 'run']);
  assert.equal(reexecArgv([NODE, SCRIPT, 'run'], [], { TELEGEN_NODE_FLAGS: '' }, NODE), undefined);
  assert.deepEqual(reexecArgv([NODE, SCRIPT, 'run'], [], { TELEGEN_NODE_FLAGS: '--max-semi-space-size=2 --v8-pool-size=1' }, NODE),
    [NODE, '--max-semi-space-size=2', '--v8-pool-size=1', SCRIPT, 'run']);
});

test('runtime flags: the real bin restarts in place (same pid) with the flags, and its log lines still reach stdout', async (t) => {
  const { file } = tempConfig(QUIET_CONFIG);
  const agent = spawnAgent(['run', '-c', file], { env: { PATH: process.env.PATH, HOME: process.env.HOME } });
  t.after(() => agent.kill('SIGKILL'));
  const started = await agent.waitFor(msg('telegen started'), 30000);
  assert.equal(started.pid, agent.proc.pid, 'same process: exec, not a child');
  const cmdline = readFileSync(`/proc/${agent.proc.pid}/cmdline`, 'utf8').split('\0');
  for (const f of RUNTIME_FLAGS) assert.ok(cmdline.includes(f), `${f} in ${cmdline.join(' ')}`);
  agent.kill('SIGTERM');
  assert.equal(await agent.exited, 0);
});
