import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, loadConfigText, defaultConfig, resolveConfigPath } from '../../src/config/load.js';
import { ConfigError, type ConfigIssue } from '../../src/config/issues.js';
import { configSchema } from '../../src/config/schema.js';
import { leaves } from '../../src/config/schema-walk.js';

const load = (text: string, env: NodeJS.ProcessEnv = {}, extra = {}) => loadConfigText(text, 'c.yaml', { env, isRoot: true, ...extra });
function issuesOf(fn: () => unknown): ConfigIssue[] {
  try { fn(); } catch (e) { if (e instanceof ConfigError) return e.issues; throw e; }
  return assert.fail('expected a ConfigError');
}
const errorsOf = (fn: () => unknown) => issuesOf(fn).filter((i) => i.severity === 'error');
const at = (obj: unknown, path: string) => path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], obj);

describe('defaults', () => {
  test('the documented defaults of the issue and the API reference', () => {
    const c = defaultConfig();
    const documented: Record<string, unknown> = {
      mode: 'agent', log_level: 'info', log_format: 'json',
      'self_telemetry.listen': ':19090', 'self_telemetry.auth.enabled': false,
      'self_telemetry.rate_limit.enabled': false, 'self_telemetry.cors.enabled': false, 'self_telemetry.debug.enabled': false,
      'otlp.protocol': 'grpc', 'otlp.compression': 'gzip', 'otlp.insecure': false, 'otlp.tls.enabled': false,
      'agent.ebpf.enabled': true, 'agent.ebpf.required': false, 'agent.ebpf.ringbuf_size': 16777216,
      'agent.ebpf.network.enabled': true, 'agent.profiling.sample_rate': 99, 'queue.directory': '/var/lib/telegen/queue',
    };
    for (const [path, value] of Object.entries(documented)) assert.deepEqual(at(c, path), value, path);
  });

  test('every leaf of the schema gets its declared default, and the result is deep-frozen', () => {
    const c = defaultConfig();
    for (const { path, schema } of leaves(configSchema)) {
      const nonRoot = schema['x-default-nonroot'];
      if (typeof nonRoot === 'string' && process.getuid?.() !== 0) continue;
      assert.deepEqual(at(c, path), schema.default, path);
    }
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.otlp.traces) && Object.isFrozen(c.self_telemetry.auth.exempt_paths));
  });

  test('root-dependent defaults move under the working directory when not root', () => {
    const c = loadConfigText('', null, { env: {}, isRoot: false, cwd: '/srv/x' }).config;
    assert.equal(c.queue.directory, '/srv/x/telegen-data/queue');
    assert.equal(c.file_exporter.directory, '/srv/x/telegen-data/output');
    const set = loadConfigText('queue:\n  directory: /q\n', null, { env: {}, isRoot: false, cwd: '/srv/x' }).config;
    assert.equal(set.queue.directory, '/q', 'a value from the file is never replaced');
  });

  test('an empty file and a file of only comments are the defaults', () => {
    assert.deepEqual(load(''), load('# nothing here\n'));
    assert.deepEqual(load('').config, defaultConfig());
  });
});

describe('variable expansion', () => {
  test('${VAR}, ${VAR:-default}, partial and literal', () => {
    const c = load([
      'otlp:',
      '  endpoint: ${EP}',
      '  headers:',
      '    x-tenant: "t-${TENANT:-none}-x"',
      '    x-literal: "$${NOT_EXPANDED}"',
      'resource:',
      '  service_name: ${SVC:-fallback}',
    ].join('\n'), { EP: 'collector:4317' }).config;
    assert.equal(c.otlp.endpoint, 'collector:4317');
    assert.equal(c.otlp.headers['x-tenant'], 't-none-x');
    assert.equal(c.otlp.headers['x-literal'], '${NOT_EXPANDED}');
    assert.equal(c.resource.service_name, 'fallback');
  });

  test('a value that is exactly one ${VAR} is read as YAML (numbers, booleans)', () => {
    const c = load('agent:\n  ebpf:\n    ringbuf_size: ${RB}\n    enabled: ${ON}\n', { RB: '65536', ON: 'false' }).config;
    assert.equal(c.agent.ebpf.ringbuf_size, 65536);
    assert.equal(c.agent.ebpf.enabled, false);
  });

  test('an empty variable takes the default; a set one wins over it', () => {
    assert.equal(load('mode: ${M:-collector}\n', { M: '' }).config.mode, 'collector');
    assert.equal(load('mode: ${M:-collector}\n', { M: 'agent' }).config.mode, 'agent');
  });

  test('an undefined variable without default is an error naming it and its line', () => {
    const errs = errorsOf(() => load('mode: agent\notlp:\n  endpoint: "${MISSING_EP}"\n'));
    assert.equal(errs.length, 1);
    assert.match(errs[0]!.message, /MISSING_EP/);
    assert.equal(errs[0]!.line, 3);
    assert.equal(errs[0]!.path, 'otlp.endpoint');
  });

  test('expansion inside lists keeps the list path', () => {
    const errs = errorsOf(() => load('self_telemetry:\n  cors:\n    allowed_origins:\n      - http://a\n      - ${NOPE}\n'));
    assert.equal(errs[0]!.path, 'self_telemetry.cors.allowed_origins[1]');
    assert.equal(errs[0]!.line, 5);
  });
});

describe('errors', () => {
  test('wrong type, bad enum and bad duration: path, expected, found, file:line:column — all at once', () => {
    const errs = errorsOf(() => load('mode: agnet\notlp:\n  timeout: 5\nagent:\n  ebpf:\n    ringbuf_size: big\n'));
    const byPath = Object.fromEntries(errs.map((e) => [e.path, e]));
    assert.deepEqual(Object.keys(byPath).sort(), ['agent.ebpf.ringbuf_size', 'mode', 'otlp.timeout']);
    assert.equal(byPath.mode!.location, 'c.yaml:1:7');
    assert.match(byPath.mode!.expected!, /"agent", "collector"/);
    assert.match(byPath.mode!.found!, /agnet/);
    assert.equal(byPath['otlp.timeout']!.line, 3);
    assert.match(byPath['otlp.timeout']!.expected!, /duration/);
    assert.equal(byPath['agent.ebpf.ringbuf_size']!.line, 6);
    assert.match(byPath['agent.ebpf.ringbuf_size']!.expected!, /integer/);
  });

  test('a misspelt key is an error with a did-you-mean; an unrelated unknown key is a warning (error with strict)', () => {
    const errs = errorsOf(() => load('otlp:\n  protocl: http\n'));
    assert.equal(errs[0]!.path, 'otlp.protocl');
    assert.match(errs[0]!.message, /did you mean "protocol"/);
    assert.equal(errs[0]!.location, 'c.yaml:2:3');
    const { warnings } = load('future_feature:\n  x: 1\n');
    assert.equal(warnings[0]!.severity, 'warning');
    assert.equal(warnings[0]!.path, 'future_feature');
    assert.equal(errorsOf(() => load('future_feature: 1\n', {}, { strict: true }))[0]!.path, 'future_feature');
  });

  test('YAML syntax errors and a non-mapping document are reported with a position', () => {
    const syntax = errorsOf(() => load('mode: agent\notlp: [unclosed\n'));
    assert.match(syntax[0]!.message, /YAML syntax/);
    assert.ok(syntax[0]!.line! >= 2);
    assert.match(errorsOf(() => load('- a\n- b\n'))[0]!.message, /mapping/);
    assert.match(errorsOf(() => load('mode: a\nmode: b\n'))[0]!.message, /YAML syntax/);
  });

  test('a missing file is a clear error naming it', () => {
    const errs = errorsOf(() => loadConfig({ configPath: '/nonexistent/telegen.yaml', env: {} }));
    assert.equal(errs[0]!.location, '/nonexistent/telegen.yaml');
    assert.match(errs[0]!.message, /cannot read/);
  });
});

describe('environment overrides and precedence', () => {
  test('every documented variable lands on its key', () => {
    const c = load('', {
      TELEGEN_MODE: 'collector', TELEGEN_LOG_LEVEL: 'debug', TELEGEN_LOG_FORMAT: 'text',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://col:4318', OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20abc,x-team=obs',
      OTEL_EXPORTER_OTLP_INSECURE: 'true', OTEL_EXPORTER_OTLP_COMPRESSION: 'none', OTEL_SERVICE_NAME: 'svc',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,team=core', TELEGEN_AGENT_EBPF_ENABLED: 'false',
      TELEGEN_AGENT_PROFILING_ENABLED: 'true', TELEGEN_AGENT_NETWORK_ENABLED: '0',
    }).config;
    assert.equal(c.mode, 'collector');
    assert.equal(c.log_level, 'debug');
    assert.equal(c.log_format, 'text');
    assert.equal(c.otlp.endpoint, 'http://col:4318');
    assert.deepEqual({ ...c.otlp.headers }, { authorization: 'Bearer abc', 'x-team': 'obs' });
    assert.equal(c.otlp.insecure, true);
    assert.equal(c.otlp.compression, 'none');
    assert.equal(c.resource.service_name, 'svc');
    assert.deepEqual({ ...c.resource.attributes }, { 'deployment.environment': 'prod', team: 'core' });
    assert.equal(c.agent.ebpf.enabled, false);
    assert.equal(c.agent.profiling.enabled, true);
    assert.equal(c.agent.ebpf.network.enabled, false);
  });

  test('header and resource lists merge over the file (env wins per key)', () => {
    const c = load('otlp:\n  headers:\n    a: file\n    b: file\n', { OTEL_EXPORTER_OTLP_HEADERS: 'b=env,c=env' }).config;
    assert.deepEqual({ ...c.otlp.headers }, { a: 'file', b: 'env', c: 'env' });
  });

  test('flags > environment > file > defaults', () => {
    const file = 'mode: collector\nlog_level: warn\nlog_format: text\n';
    assert.equal(load('').config.log_level, 'info');
    assert.equal(load(file).config.log_level, 'warn');
    assert.equal(load(file, { TELEGEN_LOG_LEVEL: 'error' }).config.log_level, 'error');
    assert.equal(load(file, { TELEGEN_LOG_LEVEL: 'error' }, { logLevel: 'debug' }).config.log_level, 'debug');
    assert.equal(load(file, { TELEGEN_MODE: 'agent' }).config.mode, 'agent');
    assert.equal(load(file, { TELEGEN_MODE: 'agent' }, { mode: 'collector' }).config.mode, 'collector');
    assert.equal(load(file, { TELEGEN_LOG_FORMAT: 'json' }, { logFormat: 'text' }).config.log_format, 'text');
  });

  test('a bad override is reported as coming from the variable or the flag', () => {
    const env = errorsOf(() => load('', { TELEGEN_AGENT_EBPF_ENABLED: 'maybe' }));
    assert.equal(env[0]!.location, 'env TELEGEN_AGENT_EBPF_ENABLED');
    const enumErr = errorsOf(() => load('', { TELEGEN_MODE: 'server' }));
    assert.equal(enumErr[0]!.location, 'env TELEGEN_MODE');
    assert.equal(enumErr[0]!.path, 'mode');
    assert.equal(errorsOf(() => load('', {}, { mode: 'x' }))[0]!.location, 'flag --mode');
    assert.match(errorsOf(() => load('', { OTEL_EXPORTER_OTLP_HEADERS: 'novalue' }))[0]!.message, /key=value/);
  });
});

describe('which file', () => {
  test('--config, then TELEGEN_CONFIG_FILE, then the system path when it exists, else embedded', () => {
    const dir = mkdtempSync(join(tmpdir(), 'telegen-cfg-'));
    const sys = join(dir, 'config.yaml');
    assert.equal(resolveConfigPath(undefined, {}, sys), null);
    writeFileSync(sys, 'mode: collector\n');
    assert.equal(resolveConfigPath(undefined, {}, sys), sys);
    assert.equal(resolveConfigPath(undefined, { TELEGEN_CONFIG_FILE: '/e.yaml' }, sys), '/e.yaml');
    assert.equal(resolveConfigPath('/f.yaml', { TELEGEN_CONFIG_FILE: '/e.yaml' }, sys), '/f.yaml');
    const fromEnv = loadConfig({ env: { TELEGEN_CONFIG_FILE: sys }, isRoot: true });
    assert.equal(fromEnv.path, sys);
    assert.equal(fromEnv.config.mode, 'collector');
  });
});
