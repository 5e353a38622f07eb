import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, orderByDependencies } from '../../src/agent/agent.js';
import { ExitCode, SubsystemError } from '../../src/agent/errors.js';
import type { Health, Subsystem, SubsystemContext } from '../../src/agent/subsystem.js';
import type { TelegenConfig } from '../../src/config/schema.js';
import { loadConfig } from '../../src/config/load.js';
import { captureLogger } from '../helpers/logger.js';
import { quietConfig } from '../helpers/config.js';

// Every built-in source off: these tests are about the Agent's own lifecycle.
const QUIET = quietConfig().replaceAll('$DIR', mkdtempSync(join(tmpdir(), 'telegen-agent-data-')));

interface Probe extends Subsystem { events: string[]; seen: TelegenConfig[] }

function probe(name: string, events: string[], opts: { dependsOn?: string[]; failStart?: string; required?: boolean; failReloadWhen?: (c: TelegenConfig) => boolean; check?: string } = {}): Probe {
  let health: Health = 'disabled';
  const seen: TelegenConfig[] = [];
  return {
    name, events, seen, dependsOn: opts.dependsOn, readinessCheck: opts.check,
    required: () => opts.required ?? false,
    async start() {
      events.push(`start:${name}`);
      if (opts.failStart) throw new SubsystemError(opts.failStart, ExitCode.EBPF);
      health = 'ok';
    },
    async stop() { events.push(`stop:${name}`); health = 'disabled'; },
    async reload(c) {
      events.push(`reload:${name}`);
      seen.push(c);
      if (opts.failReloadWhen?.(c)) throw new Error(`${name} cannot apply`);
    },
    health: () => health,
    status: () => ({ name }),
  };
}

function setup(yaml = QUIET, extra: (events: string[], ctx: SubsystemContext) => Subsystem[] = () => []) {
  const dir = mkdtempSync(join(tmpdir(), 'telegen-agent-'));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, yaml);
  const loadOptions = { configPath: file, env: {}, isRoot: true };
  const { config } = loadConfig(loadOptions);
  const events: string[] = [];
  const { logger, lines } = captureLogger();
  const agent = new Agent({ config, configPath: file, loadOptions, logger, extraSubsystems: (ctx) => extra(events, ctx) });
  return { agent, events, file, lines };
}

test('subsystems start in dependency order and stop in reverse', async () => {
  const { agent, events } = setup(QUIET, (ev) => [probe('b', ev, { dependsOn: ['a'] }), probe('a', ev), probe('c', ev, { dependsOn: ['b'] })]);
  await agent.start();
  await agent.stop();
  await agent.stop(); // idempotent
  const mine = events.filter((e) => /:(a|b|c)$/.test(e));
  assert.deepEqual(mine, ['start:a', 'start:b', 'start:c', 'stop:c', 'stop:b', 'stop:a']);
});

test('a dependency cycle is refused with the cycle named', () => {
  const ev: string[] = [];
  assert.throws(() => orderByDependencies([probe('x', ev, { dependsOn: ['y'] }), probe('y', ev, { dependsOn: ['x'] })]), /cycle: x → y → x/);
});

test('a failing optional subsystem reports failed: <reason> and the agent keeps running', async () => {
  const { agent } = setup(QUIET, (ev) => [probe('flaky', ev, { failStart: 'no BTF', check: 'flaky' })]);
  await agent.start();
  const r = agent.readiness();
  assert.equal(r.checks.flaky, 'failed: no BTF');
  assert.equal(r.ready, false);
  assert.deepEqual(agent.liveness(), { ok: true });
  await agent.stop();
});

test('a failing required subsystem stops the agent with its exit code', async () => {
  const { agent, events } = setup(QUIET, (ev) => [probe('good', ev), probe('core', ev, { failStart: 'verifier said no', required: true, dependsOn: ['good'] })]);
  await assert.rejects(agent.start(), (e: unknown) => e instanceof SubsystemError && e.exitCode === ExitCode.EBPF && /verifier said no/.test(e.message));
  assert.ok(events.includes('stop:good'), 'what started is stopped again');
});

test('a required subsystem denied permission ends with exit code 4', async () => {
  const denied: Subsystem = {
    name: 'listener', required: () => true,
    async start() { throw Object.assign(new Error('listen EACCES: permission denied 0.0.0.0:80'), { code: 'EACCES' }); },
    async stop() {}, async reload() {}, health: () => 'disabled', status: () => ({}),
  };
  const { agent } = setup(QUIET, () => [denied]);
  await assert.rejects(agent.start(), (e: unknown) => e instanceof SubsystemError && e.exitCode === ExitCode.PERMISSION);
});

test('readiness always shows ebpf, otlp and discovery, and is ready only when every enabled check is ok', async () => {
  const { agent } = setup(QUIET, (ev) => [probe('x', ev, { check: 'ebpf' })]);
  assert.equal(agent.readiness().ready, false, 'not ready before start');
  await agent.start();
  const r = agent.readiness();
  assert.deepEqual(Object.keys(r.checks).sort(), ['discovery', 'ebpf', 'otlp']);
  assert.equal(r.checks.ebpf, 'ok');
  assert.equal(r.ready, true);
  await agent.stop();
  assert.equal(agent.readiness().ready, false, 'not ready once stopping');
});

test('reload: an invalid file is refused (400) and the running configuration stays', async () => {
  const { agent, file, lines } = setup();
  await agent.start();
  const before = agent.config();
  writeFileSync(file, QUIET + 'mode: agnet\n');
  const r = await agent.reload();
  assert.equal(r.ok, false);
  assert.ok(!r.ok && r.status === 400 && r.issues.some((i) => i.path === 'mode' && i.line !== undefined));
  assert.equal(agent.config(), before);
  assert.ok(lines().some((l) => String(l.msg).includes('reload refused')));
  await agent.stop();
});

test('reload: a subsystem that cannot apply rolls every subsystem back (500)', async () => {
  let seenA: Probe | undefined;
  const { agent, file } = setup(QUIET, (ev) => {
    seenA = probe('a', ev);
    return [seenA, probe('b', ev, { failReloadWhen: (c) => c.log_level === 'debug' })];
  });
  await agent.start();
  const before = agent.config();
  writeFileSync(file, QUIET + 'log_level: debug\n');
  const r = await agent.reload();
  assert.ok(!r.ok && r.status === 500 && r.message.includes('b cannot apply'));
  assert.equal(agent.config(), before);
  assert.equal(seenA!.seen.at(-1)!.log_level, 'info', 'a was given the old configuration back');
  writeFileSync(file, QUIET + 'log_level: warn\n');
  assert.deepEqual(await agent.reload(), { ok: true });
  assert.equal(agent.config().log_level, 'warn');
  await agent.stop();
});

test('concurrent reloads are serialized and each gets its own answer', async () => {
  const { agent, file, events } = setup(QUIET, (ev) => [probe('p', ev)]);
  await agent.start();
  writeFileSync(file, QUIET + 'log_level: warn\n');
  const results = await Promise.all([agent.reload(), agent.reload(), agent.reload()]);
  assert.deepEqual(results, [{ ok: true }, { ok: true }, { ok: true }]);
  assert.equal(events.filter((e) => e === 'reload:p').length, 3);
  await agent.stop();
});

test('a fatal condition makes liveness fail with the reason', async () => {
  const { agent } = setup();
  await agent.start();
  agent.markFatal('export disk unwritable');
  assert.deepEqual(agent.liveness(), { ok: false, reason: 'export disk unwritable' });
  await agent.stop();
});

test('a blocked event loop (≥ 5 s) makes liveness fail, with the stall logged, until the loop runs freely again', async () => {
  const { agent, lines } = setup();
  await agent.start();
  try {
    assert.deepEqual(agent.liveness(), { ok: true });
    const until = Date.now() + 5600;
    while (Date.now() < until) { /* block the loop */ }
    await new Promise((r) => setTimeout(r, 20)); // the overdue check runs first
    const l = agent.liveness();
    assert.equal(l.ok, false);
    assert.match((l as { reason: string }).reason, /event loop stalled for \d+ ms/);
    assert.ok(lines().some((x) => x.msg === 'event loop stalled'), 'logged');
    // The stall is shown for one window (1 s) after it was measured; 1.7 s leaves a loaded CI host slack.
    await new Promise((r) => setTimeout(r, 1700));
    assert.deepEqual(agent.liveness(), { ok: true }, 'healthy again after a free-running second');
  } finally {
    await agent.stop();
  }
});

test('/admin/flush: every source hands over what it holds before the queues drain; one that fails is logged, the rest still go', async () => {
  const held = (n: number) => Array.from({ length: n }, (_, i) => ({
    timeUnixNano: 1n, observedTimeUnixNano: 1n, severityNumber: 9, body: `held ${i}`, attributes: {},
    resource: { attributes: {} }, scope: { name: 'test' },
  }));
  const source = (name: string, sink: SubsystemContext['sink'], n: number, fail = false): Subsystem => {
    let holding = n;
    return {
      name, health: () => 'ok', status: () => ({}),
      async start() {}, async stop() {}, async reload() {},
      async flushHeld() {
        if (fail) throw new Error('cannot hand over');
        sink.push('logs', held(holding));
        holding = 0;
      },
    };
  };
  const { agent, lines } = setup(QUIET, (_events, ctx) => [source('a', ctx.sink, 2), source('broken', ctx.sink, 5, true), source('b', ctx.sink, 3)]);
  await agent.start();
  try {
    const flushed = await agent.flush();
    assert.equal(flushed.logs, 5, 'the records a and b held went out with this flush');
    assert.ok(lines().some((l) => l.msg === 'flush: subsystem could not hand over what it holds' && l.subsystem === 'broken'));
    assert.equal((await agent.flush()).logs, 0, 'nothing held twice');
  } finally {
    await agent.stop();
  }
});
