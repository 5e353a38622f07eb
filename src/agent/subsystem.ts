import type { Logger } from '../logging/logger.js';
import type { SignalSink } from '../model/signals.js';
import type { SelfMetrics } from '../telemetry/self-metrics.js';
import type { TelegenConfig } from '../config/schema.js';
import type { Resource } from '../model/attributes.js';

/** A subsystem's health, as /ready shows it: `ok`, `disabled`, or `failed: <reason>`. */
export type Health = 'ok' | 'disabled' | `failed: ${string}`;

export const failed = (reason: string): Health => `failed: ${reason}`;

/**
 * The one contract every subsystem (eBPF core, tracers, host metrics, discovery, export, API…) implements.
 * The Agent owns them: it starts them in dependency order, stops them in reverse, forwards reloads and
 * aggregates health for /ready and status for /status. A subsystem never reaches into another's internals:
 * what it needs from another is handed to its factory as a narrow interface.
 */
export interface Subsystem {
  /** Stable name; also its key in /status and the name used in `dependsOn`. */
  readonly name: string;
  /** The /ready check it answers for (e.g. the exporter answers `otlp`); none when it has no check. */
  readonly readinessCheck?: string;
  /** Subsystems that must be started before this one (and stopped after it). */
  readonly dependsOn?: readonly string[];
  /** When true, a failed start stops the agent (e.g. `agent.ebpf.required`). Read after construction. */
  required?(): boolean;

  start(): Promise<void>;
  /** Idempotent; flushes what it holds. */
  stop(): Promise<void>;
  /**
   * Hand what it holds back from the sink (events awaiting a burst, spans not yet pushed) to the sink now.
   * POST /admin/flush calls it on every subsystem that has it, in start order, before the pipeline drains.
   */
  flushHeld?(): Promise<void>;
  /** Apply a validated new configuration. Throw to make the Agent roll every subsystem back. */
  reload(config: TelegenConfig): Promise<void>;
  health(): Health;
  /** The JSON of its /status section (the full shape of /status/<name> where the API has one). */
  status(): unknown;
}

/** What the Agent hands every subsystem factory. */
export interface SubsystemContext {
  readonly config: TelegenConfig;
  readonly logger: Logger;
  readonly metrics: SelfMetrics;
  /** The export pipeline's input: the one road for data. */
  readonly sink: SignalSink;
  /** Host-level resource attributes (host.*, os.*, service.* from OTEL_* variables). */
  readonly resource: Resource;
}

/** The export pipeline: a subsystem that is also the sink every source writes into. */
export interface ExportPipeline extends Subsystem, SignalSink {
  /** Send everything queued now; resolves with the items flushed per signal. */
  flush(): Promise<Record<import('../model/signals.js').SignalType, number>>;
}
