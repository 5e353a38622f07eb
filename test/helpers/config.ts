/**
 * A configuration with every host source off (eBPF, host metrics, discovery rescans), the API on an ephemeral
 * loopback port and data under `$DIR` (substituted by the caller). `selfTelemetry` is indented under
 * `self_telemetry:`; `rest` is appended as top-level YAML.
 */
export function quietConfig(selfTelemetry = '', rest = ''): string {
  return `self_telemetry:
  listen: "127.0.0.1:0"
${selfTelemetry.replace(/^/gm, '  ')}
queue:
  directory: $DIR/queue
file_exporter:
  directory: $DIR/out
agent:
  ebpf:
    enabled: false
  host_metrics:
    enabled: false
discovery:
  scan_interval: 1h
${rest}`;
}
