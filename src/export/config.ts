import { Bool, Duration, Int, SecretMap, Section, Str, StringEnum, Type } from '../config/types.js';

const signalQueue = (batch: number, capacity: number, enabled = true) => Section({
  enabled: Bool(enabled, 'Export this signal.'),
  batch_size: Int(batch, 'Items per export request.', 1),
  queue_capacity: Int(capacity, 'Items the in-memory queue holds before new items are dropped (counted as queue_full). Batches then move to the persistent queue, bounded by queue.max_bytes.', 1),
}, 'Per-signal queue and batching.');

/** `otlp`: where and how signals are exported. */
export const otlpSchema = Section({
  endpoint: Str('', 'OTLP endpoint: host:port for gRPC, or a base URL for HTTP. Empty: no OTLP export (the file exporter is used).'),
  protocol: StringEnum(['grpc', 'http'] as const, 'grpc', 'OTLP transport.'),
  insecure: Bool(false, 'Plaintext (no TLS). Without it a non-TLS endpoint is an error, never a silent fallback.'),
  compression: StringEnum(['gzip', 'none'] as const, 'gzip', 'Request compression.'),
  headers: SecretMap('Headers sent with every export request (values are secrets).'),
  timeout: Duration('10s', 'Per-request timeout.'),
  flush_interval: Duration('1s', 'A partial batch is cut and sent after this long (a full batch goes at once).'),
  retry: Section({
    initial_interval: Duration('1s', 'First backoff after a retryable failure.'),
    max_interval: Duration('30s', 'Backoff cap. Retries go on until the batch is delivered (or dropped by the disk cap); Retry-After / RetryInfo are honoured up to 5 minutes.'),
    multiplier: Type.Number({ default: 1.5, minimum: 1, description: 'Backoff growth per attempt (with ±50% jitter).' }),
  }, 'Retry of retryable failures (gRPC UNAVAILABLE, RESOURCE_EXHAUSTED with RetryInfo, HTTP 429/502/503/504, network errors).'),
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
  persistent: Bool(true, 'Keep unacknowledged batches in a checksummed segment log on disk (survives restarts). false: in memory, bounded by max_bytes.'),
  max_bytes: Int(536870912, 'Cap of the queue (all signals together, on disk or in memory); when reached, new batches are dropped and counted (reason disk_full); older data is kept.', 1048576),
  memory_bytes: Int(67108864, 'Byte bound of each in-memory signal queue (estimated item size); beyond it new items are dropped (queue_full).', 65536),
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
