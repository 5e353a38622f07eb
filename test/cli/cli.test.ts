import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, msg, spawnAgent, tempConfig } from '../helpers/spawn-agent.js';
import { quietConfig } from '../helpers/config.js';

/** Runs `telegen args…` to completion with a clean environment (no TELEGEN_* / OTEL_* leaking in). */
function telegen(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, encoding: 'utf8', timeout: 30000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

describe('help and version', () => {
  test('--help lists every command and the exit codes', () => {
    const r = telegen(['--help']);
    assert.equal(r.code, 0);
    for (const c of ['run', 'version', 'validate', 'diagnostics', 'completion']) assert.match(r.out, new RegExp(`\\b${c}\\b`));
    assert.match(r.out, /2 configuration error/);
    assert.match(telegen(['validate', '--help']).out, /--strict/);
  });

  test('--version, version --long and version --json agree with package.json', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    assert.match(telegen(['--version']).out, new RegExp(`^telegen ${pkg.version.replace(/\./g, '\\.')} `));
    assert.match(telegen(['-v']).out, /^telegen /);
    const v = JSON.parse(telegen(['version', '--json']).out) as Record<string, string>;
    assert.equal(v.version, pkg.version);
    assert.equal(v.node, process.version);
    assert.match(v.libbpf!, /^\d+\.\d+/);
    assert.match(v.commit!, /^[0-9a-f]{7}$|^unknown$/);
    assert.ok(!Number.isNaN(Date.parse(v.built!)));
    assert.match(telegen(['version', '--long']).out, /libbpf:\s+\d+\.\d+/);
  });

  test('an unknown command or flag exits 1 with usage', () => {
    const a = telegen(['frobnicate']);
    assert.equal(a.code, 1);
    assert.match(a.err, /unknown command "frobnicate"/);
    const b = telegen(['validate', '--nope']);
    assert.equal(b.code, 1);
    assert.match(b.err, /nope/);
    const c = telegen(['run', '--log-format', 'xml']);
    assert.equal(c.code, 1);
    assert.match(c.err, /json, text/);
  });
});

describe('validate', () => {
  test('a valid file: ✓ and a summary, exit 0', () => {
    const { file } = tempConfig('mode: agent\notlp:\n  endpoint: col:4317\n  insecure: true\nagent:\n  profiling:\n    enabled: true\n');
    const r = telegen(['validate', '-c', file]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /✓ Configuration is valid/);
    assert.match(r.out, /mode:\s+agent/);
    assert.match(r.out, /otlp:\s+col:4317 \(grpc, insecure, gzip\)/);
    assert.match(r.out, /ebpf:\s+enabled/);
    assert.match(r.out, /profiling:\s+enabled \(99 Hz\)/);
  });

  const cases: Array<[string, string, RegExp]> = [
    ['a misspelt key', 'otlp:\n  endpiont: x:1\n', /:2:3: error: otlp\.endpiont: unknown key "endpiont"; did you mean "endpoint"/],
    ['a wrong type', 'agent:\n  ebpf:\n    enabled: "sure"\n', /:3:14: error: agent\.ebpf\.enabled: invalid value \(expected a boolean/],
    ['a bad enum value', 'log_format: xml\n', /:1:13: error: log_format: invalid value \(expected one of "json", "text", found "xml"/],
    ['an undefined ${VAR}', 'otlp:\n  endpoint: ${TELEGEN_TEST_UNDEFINED}\n', /:2:13: error: otlp\.endpoint: undefined environment variable \$\{TELEGEN_TEST_UNDEFINED\}/],
  ];
  for (const [name, yaml, expected] of cases) {
    test(`${name}: key path and file:line:column, exit 2`, () => {
      const { file } = tempConfig(yaml);
      const r = telegen(['validate', '--config', file]);
      assert.equal(r.code, 2);
      assert.match(r.err, /✗ Configuration is invalid/);
      assert.match(r.err, new RegExp(file.replace(/[/.]/g, '\\$&') + expected.source));
    });
  }

  test('every error is reported at once', () => {
    const { file } = tempConfig('otlp:\n  endpiont: x:1\n  timeout: ${TELEGEN_TEST_UNDEFINED}\nagent:\n  ebpf:\n    enabled: "sure"\nlog_format: xml\n');
    const r = telegen(['validate', '-c', file]);
    assert.equal(r.code, 2);
    assert.match(r.err, /Configuration is invalid \(4 errors\)/);
  });

  test('unknown keys: warning (exit 0) by default, error (exit 2) with --strict', () => {
    const { file } = tempConfig('totally_new_section:\n  a: 1\n');
    const loose = telegen(['validate', '-c', file]);
    assert.equal(loose.code, 0);
    assert.match(loose.err, /warning: totally_new_section: unknown key/);
    assert.equal(telegen(['validate', '-c', file, '--strict']).code, 2);
  });

  test('--show prints the effective configuration with secrets redacted; TELEGEN_CONFIG_FILE is honoured', () => {
    const { file } = tempConfig('self_telemetry:\n  auth:\n    bearer_token: ${TOK}\notlp:\n  headers:\n    authorization: "Bearer ${TOK}"\n');
    const r = telegen(['validate', '--show'], { TELEGEN_CONFIG_FILE: file, TOK: 'sekrit-canary-123', TELEGEN_LOG_LEVEL: 'debug' });
    assert.equal(r.code, 0, r.err);
    assert.ok(!r.out.includes('sekrit-canary-123'));
    assert.match(r.out, /bearer_token: <redacted>/);
    assert.match(r.out, /authorization: <redacted>/);
    assert.match(r.out, /log_level: debug/, 'environment overrides show in the effective configuration');
    assert.match(r.out, new RegExp(`source:\\s+${file.replace(/[/.]/g, '\\$&')}`));
  });
});

describe('completion', () => {
  test('bash: completes commands, flags and flag values', () => {
    const script = telegen(['completion', 'bash']).out;
    const complete = (words: string[]) => execFileSync('bash', ['-c',
      `${script}\nCOMP_WORDS=(${words.map((w) => `"${w}"`).join(' ')}); COMP_CWORD=${words.length - 1}; _telegen; echo "\${COMPREPLY[@]}"`]).toString().trim().split(/\s+/);
    assert.deepEqual(complete(['telegen', 'va']), ['validate']);
    assert.ok(complete(['telegen', 'validate', '--s']).includes('--strict'));
    assert.deepEqual(complete(['telegen', 'run', '--log-format', '']), ['json', 'text']);
    assert.deepEqual(complete(['telegen', 'completion', 'z']), ['zsh']);
  });

  for (const shell of ['zsh', 'fish']) {
    test(`${shell}: the script parses in ${shell} and names every command`, (t) => {
      if (!has(shell)) { t.skip(`${shell} is not installed (the set-up installs it)`); return; }
      const r = telegen(['completion', shell]);
      assert.equal(r.code, 0);
      const { dir } = tempConfig('');
      const f = join(dir, `c.${shell}`);
      writeFileSync(f, r.out);
      const check = spawnSync(shell, ['-n', f], { encoding: 'utf8' });
      assert.equal(check.status, 0, check.stderr);
      for (const c of ['run', 'validate', 'diagnostics', 'version', 'completion']) assert.ok(r.out.includes(c));
    });
  }

  test('powershell: registers a completer with every command and flag', () => {
    const r = telegen(['completion', 'powershell']);
    assert.match(r.out, /Register-ArgumentCompleter -Native -CommandName telegen/);
    for (const w of ["'validate'", "'--strict'", "'--include-logs'", "'--log-format'"]) assert.ok(r.out.includes(w), w);
  });

  test('an unknown shell is a usage error', () => {
    assert.equal(telegen(['completion', 'tcsh']).code, 1);
  });
});

describe('diagnostics', () => {
  test('without an agent: a tar.gz of system, version, eBPF and redacted config; raw config only on request', () => {
    const { dir, file } = tempConfig('self_telemetry:\n  listen: "127.0.0.1:1"\n  auth:\n    enabled: true\n    bearer_token: diag-canary-777\n');
    const out = join(dir, 'bundle.tar.gz');
    const r = telegen(['diagnostics', '-c', file, '--output', out, '--include-logs']);
    assert.equal(r.code, 0, r.err);
    const names = execFileSync('tar', ['tzf', out]).toString().trim().split('\n').map((n) => n.replace('telegen-diagnostics/', ''));
    for (const n of ['version.json', 'system.json', 'agent.txt', 'config.yaml', 'ebpf-programs.json', 'metrics.txt', 'logs.txt']) assert.ok(names.includes(n), `${n} in ${names}`);
    assert.ok(!names.includes('config.raw.yaml'));
    const all = execFileSync('tar', ['xzOf', out]).toString();
    assert.ok(!all.includes('diag-canary-777'), 'the token never appears without --include-config');
    const sys = JSON.parse(execFileSync('tar', ['xzOf', out, 'telegen-diagnostics/system.json']).toString()) as Record<string, unknown>;
    assert.equal(sys.btf, existsSync('/sys/kernel/btf/vmlinux'));
    assert.ok(Array.isArray(sys.capabilities));
    assert.match(String(sys.kernel), /\d+\.\d+/);

    const withRaw = join(dir, 'raw.tar.gz');
    assert.equal(telegen(['diagnostics', '-c', file, '-o', withRaw, '--include-config']).code, 0);
    assert.ok(execFileSync('tar', ['xzOf', withRaw, 'telegen-diagnostics/config.raw.yaml']).toString().includes('diag-canary-777'));
  });

  test('to stdout when no --output', () => {
    const { file } = tempConfig('self_telemetry:\n  listen: "127.0.0.1:1"\n');
    const r = spawnSync(process.execPath, [BIN, 'diagnostics', '-c', file], { env: { PATH: process.env.PATH }, timeout: 30000 });
    assert.equal(r.status, 0);
    assert.equal(r.stdout[0], 0x1f);
    assert.equal(r.stdout[1], 0x8b, 'gzip magic on stdout');
  });
});

describe('diagnostics with a running agent', () => {
  test('asks the agent API: status, eBPF, metrics snapshot, recent logs; the token is used but never written', async (t) => {
    const { dir, file } = tempConfig(quietConfig('debug:\n  enabled: true\nauth:\n  enabled: true\n  bearer_token: run-diag-canary-42'));
    const agent = spawnAgent(['run', '-c', file], { env: { PATH: process.env.PATH } });
    t.after(() => agent.kill('SIGKILL'));
    const listening = await agent.waitFor(msg('api listening'));
    const endpoint = String(listening.address);
    await agent.waitFor(msg('telegen started'));
    const out = join(dir, 'live.tar.gz');
    const r = spawnSync(process.execPath, [BIN, 'diagnostics', '-c', file, '--endpoint', endpoint, '-o', out, '--include-logs'], { encoding: 'utf8', timeout: 30000 });
    assert.equal(r.status, 0, r.stderr);
    const names = execFileSync('tar', ['tzf', out]).toString();
    for (const n of ['status.json', 'status-ebpf.json', 'status-export.json', 'ready.json', 'metrics.txt', 'config.json', 'logs.txt']) assert.ok(names.includes(n), n);
    const read = (n: string) => execFileSync('tar', ['xzOf', out, `telegen-diagnostics/${n}`]).toString();
    assert.match(read('agent.txt'), /agent answering/);
    assert.equal((JSON.parse(read('status.json')) as { mode: string }).mode, 'agent');
    assert.match(read('metrics.txt'), /^# HELP telegen_/m);
    assert.match(read('logs.txt'), /telegen started/);
    assert.ok(!execFileSync('tar', ['xzOf', out]).toString().includes('run-diag-canary-42'));
    agent.kill('SIGTERM');
    assert.equal(await agent.exited, 0);
  });
});
