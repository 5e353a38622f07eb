// Shared by the HTTP tracing tests: a real agent slice (eBPF core + discovery + HTTP tracer) in this process,
// a sink that records what was pushed, real servers and clients as child processes (this process is the agent
// and therefore never traced), and helpers to wait and to free ports.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { SubsystemContext } from '../../src/agent/subsystem.js';
import { defaultConfig } from '../../src/config/load.js';
import type { TelegenConfig } from '../../src/config/schema.js';
import type { SignalItem, SignalType } from '../../src/model/signals.js';
import { SelfMetrics } from '../../src/telemetry/self-metrics.js';
import { createEbpfCore, type EbpfSubsystem } from '../../src/ebpf/core.js';
import { addonPath, bpfObjectPath } from '../../src/ebpf/paths.js';
import { preflight } from '../../src/ebpf/preflight.js';
import { createDiscovery } from '../../src/discovery/discovery.js';
import type { ProcessCatalog } from '../../src/discovery/catalog.js';
import { createHttpTracer, type HttpTracer } from '../../src/tracing/http-tracer.js';
import type { Span } from '../../src/model/span.js';

export type Pushed = { [S in SignalType]: SignalItem[S][] };

/** `record: false` (benchmarks): the sink accepts and forgets, so memory stays flat under load. */
export function testContext(edit: (c: TelegenConfig) => void = () => {}, record = true): SubsystemContext & { pushed: Pushed } {
  const config = structuredClone(defaultConfig()) as TelegenConfig;
  config.agent.ebpf.network.enabled = false;
  // Overload suspension measures the agent's process CPU, and here that process is the whole test runner
  // (assertions, fixtures' bookkeeping): it would stop capture mid-test under a load tool. Its own tests turn it on.
  config.agent.ebpf.http.overload.enabled = false;
  edit(config);
  const pushed: Pushed = { traces: [], metrics: [], logs: [], profiles: [] };
  return {
    config, logger: pino({ level: process.env.TEST_LOG ?? 'silent' }), metrics: new SelfMetrics(),
    resource: { attributes: { 'host.name': 'test' } }, pushed,
    sink: {
      push(signal, items) {
        if (record) for (const item of items) (pushed[signal] as unknown[]).push(item);
        return items.length;
      },
    },
  };
}

/** Why the capture tests cannot run here, or undefined when they can. */
export function bpfSkipReason(): string | undefined {
  const why = preflight();
  if (why) return `eBPF unavailable: ${why}`;
  if (!existsSync(addonPath)) return `addon not built (${addonPath}); run scripts/build-native.sh`;
  if (!existsSync(bpfObjectPath('http'))) return 'BPF objects not built; run make -C bpf';
  return undefined;
}

export interface AgentSlice {
  ctx: ReturnType<typeof testContext>;
  ebpf: EbpfSubsystem;
  catalog: ProcessCatalog;
  tracer: HttpTracer;
  spans: Span[];
  stop(): Promise<void>;
}

/** eBPF core → discovery → HTTP tracer, started in dependency order like the Agent does. */
export async function startAgentSlice(edit?: (c: TelegenConfig) => void, opts: { record?: boolean } = {}): Promise<AgentSlice> {
  const ctx = testContext(edit, opts.record ?? true);
  const ebpf = createEbpfCore(ctx, { builtinTracers: false });
  const discovery = createDiscovery(ctx, { processEvents: ebpf });
  const tracer = createHttpTracer(ctx, { ebpf, catalog: discovery });
  const spans: Span[] = [];
  if (opts.record ?? true) tracer.onSpan((s) => spans.push(s));
  await ebpf.start();
  await discovery.start();
  await tracer.start();
  return {
    ctx, ebpf, tracer, spans, catalog: discovery,
    async stop() {
      await tracer.stop();
      await discovery.stop();
      await ebpf.stop();
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor(cond: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

export { freePort } from '../helpers/net.js';

/** Wait until something accepts TCP connections on 127.0.0.1:port. */
export async function waitForPort(port: number, ms = 10_000): Promise<void> {
  const { connect } = await import('node:net');
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`nothing listening on ${port}`);
    await sleep(50);
  }
}

/** Child processes started by a test, killed in after() even on failure. */
export class Procs {
  private readonly children: ChildProcess[] = [];
  private readonly dirs: string[] = [];

  spawn(cmd: string, args: string[], opts: { cwd?: string } = {}): ChildProcess {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: opts.cwd });
    c.stdout?.resume();
    c.stderr?.resume();
    this.children.push(c);
    return c;
  }

  tempDir(prefix: string): string {
    const d = mkdtempSync(join(tmpdir(), prefix));
    this.dirs.push(d);
    return d;
  }

  killAll(): void {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
  }
}

/** Run a program to completion; its stdout. */
export function run(cmd: string, args: string[], procs: Procs): Promise<{ code: number; stdout: string; pid: number }> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr!.resume();
    c.on('error', reject);
    c.on('close', (code) => resolve({ code: code ?? -1, stdout: out, pid: c.pid ?? -1 }));
    void procs;
  });
}

export function writeFile(dir: string, name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}
