// The one configuration schema: types (Static), defaults, validation, redaction, env overrides and the
// generated reference (docs/configuration.md) all come from here. Components own their fragments.
import { Bool, Duration, Int, Section, StringEnum, Type, type Static } from './types.js';
import { selfTelemetrySchema } from '../api/config.js';
import { otlpSchema, queueSchema, fileExporterSchema, remoteWriteSchema } from '../export/config.js';
import { ebpfSchema } from '../ebpf/config.js';
import { hostMetricsSchema } from '../hostmetrics/config.js';
import { discoverySchema } from '../discovery/config.js';

export const configSchema = Type.Object({
  mode: StringEnum(['agent', 'collector'] as const, 'agent',
    'agent: collect from this host (eBPF, host metrics, discovery). collector: only receive and export; host sources off.'),
  log_level: StringEnum(['debug', 'info', 'warn', 'error'] as const, 'info', 'Minimum level logged.'),
  log_format: StringEnum(['json', 'text'] as const, 'json', 'Log line format.'),
  shutdown_timeout: Duration('15s', 'Deadline for a graceful shutdown (flush queues, detach programs, exit).'),
  resource: Section({
    service_name: Type.String({ default: '', description: 'service.name for signals not tied to a discovered process (OTEL_SERVICE_NAME).' }),
    attributes: Type.Record(Type.String(), Type.String(), { default: {}, description: 'Extra resource attributes on every signal (OTEL_RESOURCE_ATTRIBUTES).' }),
  }, 'Resource attributes.'),
  self_telemetry: selfTelemetrySchema,
  otlp: otlpSchema,
  queue: queueSchema,
  file_exporter: fileExporterSchema,
  remote_write: remoteWriteSchema,
  agent: Section({
    nice: Int(10, 'CPU nice value (0–19) of every agent thread, set at start: under CPU contention the workloads come first and the agent catches up with spare CPU (the kernel sheds what it cannot capture, counted). 10, not 19: at 19 the agent fell behind and shed HTTP exchanges on a busy but unsaturated host (bench:http-tracing, 8k req/s with client and server on one 2-core host). Lowering needs no capability; 0 leaves the priority as it is.', 0, 19),
    ebpf: ebpfSchema,
    profiling: Section({
      enabled: Bool(false, 'CPU profiling with perf_event sampling (not built yet: reported as disabled).'),
      sample_rate: Int(99, 'Samples per second per CPU.', 1, 10000),
    }, 'Continuous CPU profiling.'),
    host_metrics: hostMetricsSchema,
  }, 'Host-side sources.'),
  discovery: discoverySchema,
}, { description: 'Telegen configuration.' });

export type TelegenConfig = Static<typeof configSchema>;
