// The API's response shapes as TypeBox schemas: the same objects serialize the responses (fastify), describe them
// in /openapi.json, and check what subsystems hand over. Field names are the API reference's, exactly.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { ERROR_CODES } from './errors.js';

const Int = (description?: string) => Type.Integer({ minimum: 0, ...(description ? { description } : {}) });
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Health = Type.String({ pattern: '^(ok|disabled|failed: .*)$', description: '`ok`, `disabled`, or `failed: <reason>`' });

export const ErrorBodySchema = Type.Object({
  error: Type.Union(Object.keys(ERROR_CODES).map((c) => Type.Literal(c)), { description: 'Error code' }),
  message: Type.String({ description: 'Human-readable error message' }),
  details: Type.Record(Type.String(), Type.Unknown(), { description: 'Additional context' }),
}, { additionalProperties: false, description: 'Standard error format' });

export const HealthzSchema = Type.Object({ status: Type.Literal('ok') }, { additionalProperties: false });
export const UnhealthySchema = Type.Object({
  status: Type.Literal('unhealthy'),
  reason: Type.String({ description: 'Why the process cannot do its job (event loop stalled, fatal subsystem failure)' }),
}, { additionalProperties: false });

export const ReadySchema = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('not_ready')]),
  checks: Type.Record(Type.String(), Health, { description: 'One check per subsystem; `ebpf`, `otlp` and `discovery` are always present' }),
}, { additionalProperties: false });

// ---- Subsystem status shapes (GET /status/<name>), checked before they are served ----

export const EbpfStatusSchema = Type.Object({
  enabled: Type.Boolean(),
  programs: Type.Array(Type.Object({ name: Type.String(), type: Type.String(), attached: Type.Boolean(), id: Int() })),
  maps: Type.Array(Type.Object({ name: Type.String(), type: Type.String(), entries: Int(), max_entries: Int() })),
  ringbuf: Type.Object({ size: Int(), events_received: Int(), events_lost: Int() }),
});
export type EbpfStatus = Static<typeof EbpfStatusSchema>;

const Queue = Type.Object({ size: Int(), capacity: Int(), exported: Int(), dropped: Int() });
export const ExportStatusSchema = Type.Object({
  endpoint: Type.String(),
  protocol: Type.Union([Type.Literal('grpc'), Type.Literal('http')]),
  tls: Type.Boolean(),
  compression: Type.Union([Type.Literal('gzip'), Type.Literal('none')]),
  connected: Type.Boolean(),
  last_export: Nullable(Type.String({ description: 'ISO-8601' })),
  last_error: Nullable(Type.String()),
  queues: Type.Object({
    traces: Type.Optional(Queue), metrics: Type.Optional(Queue), logs: Type.Optional(Queue), profiles: Type.Optional(Queue),
  }),
});
export type ExportStatus = Static<typeof ExportStatusSchema>;

export const DiscoveryStatusSchema = Type.Object({
  kubernetes: Type.Object({
    enabled: Type.Boolean(), connected: Type.Boolean(), cluster: Nullable(Type.String()), namespace: Nullable(Type.String()),
    pods_watched: Int(), services_watched: Int(),
  }),
  docker: Type.Object({ enabled: Type.Boolean(), connected: Type.Boolean(), containers: Int() }),
  cloud: Type.Object({ provider: Nullable(Type.String()), region: Nullable(Type.String()), instance_id: Nullable(Type.String()) }),
  discovered_services: Type.Array(Type.Object({
    name: Type.String(), namespace: Type.String(), instances: Int(), ports: Type.Array(Type.Integer({ minimum: 0, maximum: 65535 })),
  })),
});
export type DiscoveryStatus = Static<typeof DiscoveryStatusSchema>;

export const ProfilingStatusSchema = Type.Object({ enabled: Type.Boolean(), sample_rate: Int(), profiles_collected: Int() });
export type ProfilingStatus = Static<typeof ProfilingStatusSchema>;

// ---- GET /status: a summary of the above ----

export const StatusSchema = Type.Object({
  version: Type.String(),
  commit: Type.String(),
  built: Type.String(),
  uptime: Type.String({ pattern: '^(\\d+h)?(\\d+m)?\\d+s$', description: 'Like `24h15m30s`' }),
  mode: Type.Union([Type.Literal('agent'), Type.Literal('collector')]),
  host: Type.Object({ name: Type.String(), os: Type.String(), arch: Type.String(), kernel: Type.String() }),
  ebpf: Type.Object({ enabled: Type.Boolean(), programs_loaded: Int(), maps_created: Int(), ringbuf_size: Int() }),
  profiling: ProfilingStatusSchema,
  export: Type.Object({
    endpoint: Type.String(), connected: Type.Boolean(), last_export: Nullable(Type.String()),
    spans_exported: Int(), metrics_exported: Int(),
  }),
  discovery: Type.Object({
    kubernetes: Type.Boolean(), docker: Type.Boolean(), pods_discovered: Int(), containers_discovered: Int(),
  }),
});
export type Status = Static<typeof StatusSchema>;

// ---- Admin ----

export const ReloadOkSchema = Type.Object({ status: Type.Literal('ok'), message: Type.Literal('Configuration reloaded') }, { additionalProperties: false });
export const FlushSchema = Type.Object({
  status: Type.Literal('ok'),
  flushed: Type.Object({ traces: Int(), metrics: Int(), logs: Int(), profiles: Int() }, { description: 'Items sent per signal' }),
}, { additionalProperties: false });

// ---- Debug ----

export const DebugVarsSchema = Type.Object({
  cmdline: Type.Array(Type.String(), { description: 'process.argv' }),
  memstats: Type.Object({
    Alloc: Int('V8 heap bytes in use (heapUsed)'),
    TotalAlloc: Int('V8 heap bytes allocated since start: bytes collected by every GC plus what is in use now'),
    Sys: Int('Resident set size (rss)'),
    HeapAlloc: Int('heapUsed'),
    HeapSys: Int('heapTotal'),
    HeapIdle: Int('heapTotal - heapUsed'),
    HeapInuse: Int('heapUsed'),
    External: Int('Memory of C++ objects bound to JavaScript objects (external)'),
    ArrayBuffers: Int('ArrayBuffer and Buffer memory (arrayBuffers)'),
    NumGC: Int('Garbage collections seen by a PerformanceObserver'),
    PauseTotalNs: Int('Total GC pause time in nanoseconds'),
    LastGC: Int('Unix time of the last GC in nanoseconds, 0 when none yet'),
  }),
  recent_logs: Type.Array(Type.String(), { description: 'The agent\'s most recent log lines (bounded)' }),
}, { additionalProperties: false });

export const CpuProfileQuerySchema = Type.Object({
  seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 300, default: 30, description: 'Profile duration' })),
});
export const StacksQuerySchema = Type.Object({
  debug: Type.Optional(Type.Integer({ minimum: 0, maximum: 2, description: 'Accepted for compatibility with Go tooling; the output is always text' })),
});
