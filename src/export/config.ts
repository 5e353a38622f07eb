import { Bool, Duration, Int, SecretMap, Section, Str, StringEnum, Type } from '../config/types.js';

const signalQueue = (batch: number, capacity: number, enabled = true) => Section({
  enabled: Bool(enabled, 'Export this signal.'),
  batch_size: Int(batch, 'Items per export request.', 1),
  queue_capacity: Int(capacity, 'Items the in-memory queue holds before new items are dropped (counted).', 1),
}, 'Per-signal queue and batching.');

/** `otlp`: where and how signals are exported. */
export const otlpSchema = Section({
  endpoint: Str('', 'OTLP endpoint: host:port for gRPC, or a base URL for HTTP. Empty: no OTLP export (the file exporter is used).'),
  protocol: StringEnum(['grpc', 'http'] as const, 'grpc', 'OTLP transport.'),
  insecure: Bool(false, 'Plaintext (no TLS). Without it a non-TLS endpoint is an error, never a silent fallback.'),
  compression: StringEnum(['gzip', 'none'] as const, 'gzip', 'Request compression.'),
  headers: SecretMap('Headers sent with every export request (values are secrets).'),
  timeout: Duration('10s', 'Per-request timeout.'),
  tls: Section({
    enabled: Bool(false, 'Use TLS with the files below.'),
    ca_file: Str('', 'CA bundle that signs the endpoint certificate.'),
    cert_file: Str('', 'Client certificate (mutual TLS).'),
    key_file: Str('', 'Client private key (mutual TLS).'),
    insecure_skip_verify: Bool(false, 'Do not verify the server certificate.'),
  }, 'TLS settings.'),
  traces: signalQueue(512, 10000),
  metrics: signalQueue(1000, 5000),
  logs: signalQueue(512, 10000),
  profiles: signalQueue(16, 100),
}, 'OTLP export.');

/** `queue`: the persistent (disk) queue under every exporter. */
export const queueSchema = Section({
  directory: Type.String({
    default: '/var/lib/telegen/queue',
    'x-default-nonroot': 'telegen-data/queue',
    description: 'Directory of the persistent segment log. When not root, the default is telegen-data/queue under the working directory.',
  }),
  max_bytes: Int(536870912, 'Disk cap of the persistent queue; when reached new batches are dropped and counted.', 1048576),
}, 'Persistent export queue.');

/** `file_exporter`: OTLP JSON lines on disk, for a first run with no collector. */
export const fileExporterSchema = Section({
  enabled: Type.Union([Type.Boolean(), Type.Literal('auto')], {
    default: 'auto', description: '"auto": on only when no OTLP endpoint is configured.',
  }),
  directory: Type.String({
    default: '/var/lib/telegen/output', 'x-default-nonroot': 'telegen-data/output',
    description: 'Where traces.jsonl, metrics.jsonl and logs.jsonl are written.',
  }),
  rotate_bytes: Int(67108864, 'Rotate a file when it reaches this size.', 1024),
}, 'File exporter (OTLP/JSON lines).');

/** `remote_write`: Prometheus remote write for metrics. */
export const remoteWriteSchema = Section({
  enabled: Bool(false, 'Send metrics with Prometheus remote write.'),
  endpoint: Str('', 'Remote-write URL, e.g. http://127.0.0.1:9090/api/v1/write.'),
  headers: SecretMap('Headers sent with every request (values are secrets).'),
}, 'Prometheus remote write.');
