import type { TelegenConfig } from '../config/schema.js';
import type { ConfigIssue } from '../config/issues.js';
import type { SignalType } from '../model/signals.js';
import type { SelfMetrics } from '../telemetry/self-metrics.js';
import type { BuildInfo } from './build-info.js';
import type { HostInfo } from './host.js';
import type { Health } from './subsystem.js';

export type ReloadResult =
  | { ok: true }
  | { ok: false; status: 400; message: string; issues: ConfigIssue[] }
  | { ok: false; status: 500; message: string; subsystem: string };

/** What the control API (and SIGUSR1, diagnostics) may ask of the Agent. Nothing else of it is reachable. */
export interface AgentControl {
  readonly build: BuildInfo;
  readonly host: HostInfo;
  readonly metrics: SelfMetrics;
  readonly startedAt: Date;
  /** The running configuration (deep-frozen; redact before showing). */
  config(): TelegenConfig;
  /** Path of the configuration file, or null for the embedded defaults. */
  configPath(): string | null;
  /** Liveness: false only when the process cannot do its job (event loop stalled, fatal subsystem failure). */
  liveness(): { ok: true } | { ok: false; reason: string };
  /** One check per subsystem with a readiness check; `ebpf`, `otlp` and `discovery` are always present. */
  readiness(): { ready: boolean; checks: Record<string, Health> };
  /** A subsystem's status() by name, or undefined when no such subsystem is built. */
  subsystemStatus(name: string): unknown;
  /** Re-read the configuration file and apply it; serialized with other reloads. */
  reload(): Promise<ReloadResult>;
  /** The agent's most recent log lines (bounded), for /debug/vars and diagnostics. */
  recentLogs(): string[];
  /** Drain every export queue now; items flushed per signal. */
  flush(): Promise<Record<SignalType, number>>;
}
