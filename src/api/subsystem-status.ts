// Subsystem status sections as the API serves them. A section comes from the subsystem's own status() through
// AgentControl; it is checked against the API schema (a drifted shape is a loud 500, never a silently wrong
// answer), and a subsystem that is not built is reported honestly as disabled with counts 0.
import type { TypeCheck } from '@sinclair/typebox/compiler';
import type { TObject } from '@sinclair/typebox';
import type { AgentControl } from '../agent/control.js';
import type { TelegenConfig } from '../config/schema.js';
import { apiErrors } from './errors.js';
import {
  DiscoveryStatusSchema, EbpfStatusSchema, ExportStatusSchema, ProfilingStatusSchema,
  type DiscoveryStatus, type EbpfStatus, type ExportStatus, type ProfilingStatus, type Status,
} from './schemas.js';

interface Section<T> {
  name: string;
  schema: TObject;
  /** Compiled on the section's first read (the compiler and the checks are not needed until someone asks). */
  check?: TypeCheck<TObject>;
  disabled(config: TelegenConfig): T;
}

const section = <T>(name: string, schema: TObject, disabled: (c: TelegenConfig) => T): Section<T> =>
  ({ name, schema, disabled });

/** TypeBox's compiler (~0.5 MB of heap with its value/errors modules) is imported by the first status read. */
let compiler: Promise<typeof import('@sinclair/typebox/compiler')> | undefined;

async function checkOf(s: Section<unknown>): Promise<TypeCheck<TObject>> {
  if (s.check) return s.check;
  const { TypeCompiler } = await (compiler ??= import('@sinclair/typebox/compiler'));
  return (s.check ??= TypeCompiler.Compile(s.schema));
}

export const EBPF = section<EbpfStatus>('ebpf', EbpfStatusSchema, () => ({
  enabled: false, programs: [], maps: [], ringbuf: { size: 0, events_received: 0, events_lost: 0 },
}));

export const EXPORT = section<ExportStatus>('export', ExportStatusSchema, (c) => ({
  endpoint: c.otlp.endpoint, protocol: c.otlp.protocol, tls: c.otlp.tls.enabled, compression: c.otlp.compression,
  connected: false, last_export: null, last_error: null, queues: {},
}));

export const DISCOVERY = section<DiscoveryStatus>('discovery', DiscoveryStatusSchema, () => ({
  kubernetes: { enabled: false, connected: false, cluster: null, namespace: null, pods_watched: 0, services_watched: 0 },
  docker: { enabled: false, connected: false, containers: 0 },
  cloud: { provider: null, region: null, instance_id: null },
  discovered_services: [],
}));

export const PROFILING = section<ProfilingStatus>('profiling', ProfilingStatusSchema, (c) => ({
  enabled: false, sample_rate: c.agent.profiling.sample_rate, profiles_collected: 0,
}));

/** The section's status, validated; the disabled shape when the subsystem is not built. */
export async function readSection<T>(control: AgentControl, s: Section<T>): Promise<T> {
  const value = control.subsystemStatus(s.name);
  if (value === undefined) return s.disabled(control.config());
  const check = s.check ?? await checkOf(s);
  if (!check.Check(value)) {
    const first = check.Errors(value).First();
    throw apiErrors.internal(`the ${s.name} subsystem reported a status that does not match the API schema`, {
      subsystem: s.name, path: first?.path ?? '', problem: first?.message ?? 'invalid',
    });
  }
  return value as T;
}

/** Go-style duration at second resolution: `24h15m30s`, `5m3s`, `42s`. */
export function formatUptime(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/** GET /status: build, host and a summary of every section, exactly the reference's fields. */
export async function statusSummary(control: AgentControl, now = Date.now()): Promise<Status> {
  const [ebpf, exp, disc, prof] = await Promise.all([
    readSection(control, EBPF), readSection(control, EXPORT), readSection(control, DISCOVERY), readSection(control, PROFILING),
  ]);
  const config = control.config();
  return {
    version: control.build.version,
    commit: control.build.commit,
    built: control.build.built,
    uptime: formatUptime(now - control.startedAt.getTime()),
    mode: config.mode,
    host: { ...control.host },
    ebpf: { enabled: ebpf.enabled, programs_loaded: ebpf.programs.length, maps_created: ebpf.maps.length, ringbuf_size: ebpf.ringbuf.size },
    profiling: { enabled: prof.enabled, sample_rate: prof.sample_rate, profiles_collected: prof.profiles_collected },
    export: {
      endpoint: exp.endpoint, connected: exp.connected, last_export: exp.last_export,
      spans_exported: exp.queues.traces?.exported ?? 0, metrics_exported: exp.queues.metrics?.exported ?? 0,
    },
    discovery: {
      kubernetes: disc.kubernetes.enabled, docker: disc.docker.enabled,
      pods_discovered: disc.kubernetes.pods_watched, containers_discovered: disc.docker.containers,
    },
  };
}
