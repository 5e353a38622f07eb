import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfigText, defaultConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/config/issues.js';

const load = (text: string, env: NodeJS.ProcessEnv = {}, extra = {}) => loadConfigText(text, 'c.yaml', { env, isRoot: true, ...extra });
const errorsOf = (fn: () => unknown) => {
  try { fn(); } catch (e) { if (e instanceof ConfigError) return e.issues.filter((i) => i.severity === 'error'); throw e; }
  assert.fail('expected a ConfigError');
};

test('embedded defaults are the documented ones', () => {
  const c = defaultConfig();
  assert.equal(c.mode, 'agent');
  assert.equal(c.self_telemetry.listen, ':19090');
  assert.equal(c.agent.ebpf.ringbuf_size, 16777216);
  assert.equal(c.agent.profiling.sample_rate, 99);
  assert.deepEqual(c.self_telemetry.auth.exempt_paths, ['/healthz', '/ready']);
  assert.ok(Object.isFrozen(c.otlp.traces));
});

test('a bad enum names the key path and its line', () => {
  const [e] = errorsOf(() => load('log_level: info\nmode: agnet\n'));
  assert.equal(e!.path, 'mode');
  assert.equal(e!.line, 2);
  assert.match(e!.expected!, /agent/);
});
