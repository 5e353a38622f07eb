// The Agent owns every subsystem: it starts them in dependency order (downstream first), stops them in reverse,
// serializes reloads (validate first, apply one by one, roll back on failure) and aggregates health.
import type { TelegenConfig } from '../config/schema.js';
import { ConfigError } from '../config/issues.js';
import { loadConfig, type LoadOptions } from '../config/load.js';
import { parseDuration } from '../config/types.js';
import type { Logger, RecentLogs } from '../logging/logger.js';
import type { SignalType } from '../model/signals.js';
import { SelfMetrics } from '../telemetry/self-metrics.js';
import { buildInfo } from './build-info.js';
import type { AgentControl, ReloadResult } from './control.js';
import { ExitCode, SubsystemError } from './errors.js';
import { hostInfo, hostResource } from './host.js';
import { startMallocTrim } from './malloc-trim.js';
import { failed, type Health, type Subsystem, type SubsystemContext } from './subsystem.js';
import { buildSubsystems, type ExportPipeline } from './wiring.js';

/** Readiness checks the API always shows, `disabled` until a subsystem answers for them. */
const STANDARD_CHECKS = ['ebpf', 'otlp', 'discovery'];
/** The event loop is reported stalled (GET /healthz 503) when a delay this long was seen in the last window. */
const STALL_THRESHOLD_MS = 5_000;
const STALL_CHECK_MS = 500;
const STALL_WINDOW_MS = 1000;
/** How long /admin/flush waits for one source to hand over what it holds before draining the queues anyway. */
const FLUSH_HELD_TIMEOUT_MS = 2000;

export interface AgentOptions {
  config: TelegenConfig;
  configPath: string | null;
  /** How the configuration was loaded, so reloads read it the same way (flags, env). */
  loadOptions: LoadOptions;
  logger: Logger;
  /** The bounded buffer the logger also writes into (absent in tests that do not need it). */
  recentLogs?: RecentLogs;
  /** Subsystems added after the wired ones (tests inject failing or slow subsystems here). */
  extraSubsystems?: (ctx: SubsystemContext) => Subsystem[];
}

export class Agent implements AgentControl {
  readonly build = buildInfo();
  readonly host = hostInfo();
  readonly metrics = new SelfMetrics();
  readonly startedAt = new Date();
  private current: TelegenConfig;
  private readonly subsystems: Subsystem[];
  private readonly pipeline: ExportPipeline;
  private readonly startErrors = new Map<string, string>();
  private stallCheck?: NodeJS.Timeout;
  /** When the stall check last ran (performance.now()): a check that runs late measures the stall. */
  private lastCheckAt = 0;
  private stallSeenAt = 0;
  private stopTrim?: () => void;
  private lastStallMs = 0;
  private fatal?: string;
  private reloading: Promise<unknown> = Promise.resolve();
  private state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';

  constructor(private readonly opts: AgentOptions) {
    this.current = opts.config;
    const base = { config: opts.config, logger: opts.logger, metrics: this.metrics, resource: hostResource(opts.config) };
    const built = buildSubsystems(base, this);
    this.pipeline = built.pipeline;
    const extra = opts.extraSubsystems?.({ ...base, sink: built.pipeline }) ?? [];
    this.subsystems = orderByDependencies([...built.subsystems, ...extra]);
  }

  get logger(): Logger {
    return this.opts.logger;
  }

  config(): TelegenConfig {
    return this.current;
  }

  configPath(): string | null {
    return this.opts.configPath;
  }

  /** Start every subsystem; a required one that fails rejects with its exit code, others report `failed`. */
  async start(): Promise<void> {
    this.state = 'starting';
    this.lastCheckAt = performance.now();
    this.stallCheck = setInterval(() => this.checkStall(), STALL_CHECK_MS).unref();
    this.stopTrim = startMallocTrim((ms) => { if (ms > 5) this.logger.debug({ ms: Math.round(ms) }, 'malloc_trim was slow'); });
    for (const s of this.subsystems) {
      try {
        await s.start();
        this.logger.debug({ subsystem: s.name, health: s.health() }, 'subsystem started');
      } catch (e) {
        const msg = (e as Error).message;
        this.startErrors.set(s.name, msg);
        if (s.required?.()) {
          this.logger.error({ subsystem: s.name, err: msg }, 'required subsystem failed to start');
          await this.stop();
          throw e instanceof SubsystemError ? e : new SubsystemError(`${s.name}: ${msg}`, exitCodeFor(e));
        }
        this.logger.warn({ subsystem: s.name, err: msg }, 'subsystem failed to start; continuing without it');
      }
    }
    this.state = 'running';
    this.logger.info({ version: this.build.version, mode: this.current.mode, subsystems: this.subsystems.map((s) => `${s.name}=${this.healthOf(s)}`) }, 'telegen started');
  }

  /** Graceful stop: upstream first (sources), the export pipeline last so it can flush. Idempotent. */
  async stop(): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    this.state = 'stopping';
    const deadline = parseDuration(this.current.shutdown_timeout);
    const started = Date.now();
    for (const s of [...this.subsystems].reverse()) {
      const left = Math.max(100, deadline - (Date.now() - started));
      try {
        await withTimeout(s.stop(), left, `${s.name} did not stop within ${left} ms`);
      } catch (e) {
        this.logger.warn({ subsystem: s.name, err: (e as Error).message }, 'subsystem stop failed');
      }
    }
    clearInterval(this.stallCheck);
    this.stopTrim?.();
    this.state = 'stopped';
  }

  liveness(): { ok: true } | { ok: false; reason: string } {
    if (this.fatal) return { ok: false, reason: this.fatal };
    if (this.lastStallMs >= STALL_THRESHOLD_MS) return { ok: false, reason: `event loop stalled for ${Math.round(this.lastStallMs)} ms` };
    return { ok: true };
  }

  /** Mark the process unhealthy (GET /healthz 503) — for failures no restart of a subsystem can mend. */
  markFatal(reason: string): void {
    this.fatal = reason;
  }

  readiness(): { ready: boolean; checks: Record<string, Health> } {
    const checks: Record<string, Health> = {};
    for (const c of STANDARD_CHECKS) checks[c] = 'disabled';
    for (const s of this.subsystems) if (s.readinessCheck) checks[s.readinessCheck] = this.healthOf(s);
    const ready = this.state === 'running' && Object.values(checks).every((h) => h === 'ok' || h === 'disabled');
    return { ready, checks };
  }

  subsystemStatus(name: string): unknown {
    return this.subsystems.find((s) => s.name === name)?.status();
  }

  /** Every subsystem's health and status (SIGUSR1 dump, diagnostics). */
  fullStatus(): Record<string, { health: Health; status: unknown }> {
    return Object.fromEntries(this.subsystems.map((s) => [s.name, { health: this.healthOf(s), status: s.status() }]));
  }

  reload(): Promise<ReloadResult> {
    // Serialized: a reload that arrives during another waits for it, and every caller gets its own answer.
    const next = this.reloading.then(() => this.reloadNow());
    this.reloading = next.catch(() => undefined);
    return next;
  }

  recentLogs(): string[] {
    return this.opts.recentLogs?.snapshot() ?? [];
  }

  /** Sources first (what they hold goes into the queues), then the pipeline sends every queue. */
  async flush(): Promise<Record<SignalType, number>> {
    for (const s of this.subsystems) {
      if (!s.flushHeld) continue;
      try {
        await withTimeout(s.flushHeld(), FLUSH_HELD_TIMEOUT_MS, `${s.name} did not hand over what it holds within ${FLUSH_HELD_TIMEOUT_MS} ms`);
      } catch (e) {
        this.logger.warn({ subsystem: s.name, err: (e as Error).message }, 'flush: subsystem could not hand over what it holds');
      }
    }
    return this.pipeline.flush();
  }

  private async reloadNow(): Promise<ReloadResult> {
    let next: TelegenConfig;
    try {
      next = loadConfig(this.opts.loadOptions).config;
    } catch (e) {
      this.metrics.configReloads.inc({ result: 'invalid' });
      if (e instanceof ConfigError) {
        this.logger.error({ errors: e.message.split('\n') }, 'reload refused: configuration is invalid; keeping the running configuration');
        return { ok: false, status: 400, message: e.message, issues: e.issues };
      }
      return { ok: false, status: 400, message: (e as Error).message, issues: [] };
    }
    const old = this.current;
    const applied: Subsystem[] = [];
    for (const s of this.subsystems) {
      try {
        applied.push(s);
        await s.reload(next);
      } catch (e) {
        const msg = (e as Error).message;
        this.logger.error({ subsystem: s.name, err: msg }, 'reload failed; rolling back to the previous configuration');
        for (const r of applied.reverse()) {
          try { await r.reload(old); } catch (e2) {
            this.logger.error({ subsystem: r.name, err: (e2 as Error).message }, 'rollback failed');
          }
        }
        this.metrics.configReloads.inc({ result: 'failed' });
        return { ok: false, status: 500, message: `${s.name}: ${msg}`, subsystem: s.name };
      }
    }
    this.current = next;
    this.startErrors.clear();
    this.metrics.configReloads.inc({ result: 'ok' });
    this.logger.info('configuration reloaded');
    return { ok: true };
  }

  /** A start failure wins over what the subsystem says of itself until a reload succeeds for it. */
  private healthOf(s: Subsystem): Health {
    const err = this.startErrors.get(s.name);
    const h = s.health();
    return err && !h.startsWith('failed') ? failed(err) : h;
  }

  /**
   * A blocked event loop runs this 500 ms timer late by the length of the block (less at most 500 ms), so the
   * lateness is the stall (the threshold is 5 s). (An event-loop-delay histogram at 50 ms resolution saw the
   * same, at the price of waking the process 20 times a second; a 250 ms check cost 2 wake-ups/s more.)
   */
  private checkStall(): void {
    const now = performance.now();
    const max = Math.max(0, now - this.lastCheckAt - STALL_CHECK_MS);
    this.lastCheckAt = now;
    // Liveness shows the worst delay of the last second (as the histogram reset every second did). The timer's
    // clock and performance.now() differ by a fraction of a millisecond, so the check due one window later may
    // read 999.8 ms: half a check period of slack keeps it from holding a stale stall for one more period.
    if (max < this.lastStallMs && now - this.stallSeenAt < STALL_WINDOW_MS - STALL_CHECK_MS / 2) return;
    this.lastStallMs = max;
    this.stallSeenAt = now;
    if (max >= STALL_THRESHOLD_MS) this.logger.warn({ delay_ms: Math.round(max) }, 'event loop stalled');
  }
}

/** Topological order over `dependsOn` (stable: otherwise the order given). Unknown names are ignored. */
export function orderByDependencies(list: Subsystem[]): Subsystem[] {
  const byName = new Map(list.map((s) => [s.name, s]));
  const out: Subsystem[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (s: Subsystem, trail: string[]) => {
    const st = state.get(s.name);
    if (st === 'done') return;
    if (st === 'visiting') throw new Error(`subsystem dependency cycle: ${[...trail, s.name].join(' → ')}`);
    state.set(s.name, 'visiting');
    for (const d of s.dependsOn ?? []) {
      const dep = byName.get(d);
      if (dep) visit(dep, [...trail, s.name]);
    }
    state.set(s.name, 'done');
    out.push(s);
  };
  for (const s of list) visit(s, []);
  return out;
}

/** EACCES/EPERM (e.g. a privileged port, no CAP_BPF) end the process with the permission exit code. */
function exitCodeFor(e: unknown): ExitCode {
  const code = (e as NodeJS.ErrnoException)?.code;
  return code === 'EACCES' || code === 'EPERM' ? ExitCode.PERMISSION : ExitCode.GENERAL;
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, rej) => { t = setTimeout(() => rej(new Error(message)), ms); })])
    .finally(() => clearTimeout(t));
}
