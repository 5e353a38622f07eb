import { Bool, Duration, Int, Section } from '../config/types.js';
import { httpTracingSchema } from '../tracing/config.js';

/** `agent.ebpf`: the kernel side (libbpf addon, programs, ring buffer) and the tracers on it. */
export const ebpfSchema = Section({
  enabled: Bool(true, 'Load the eBPF programs.'),
  required: Bool(false, 'Exit (code 3) when eBPF cannot start, instead of running without it.'),
  ringbuf_size: Int(16777216, 'Size in bytes of the event ring buffer (a power of two, multiple of the page size).', 4096),
  delivery_latency: Duration('200ms', 'Longest an event waits in the ring buffer before user space takes it (spans, flows and process events are batched up to this long, or until 256 KiB (at most a quarter of the ring) are queued; the first event after a quiet spell goes at once). Shorter costs more CPU at low event rates: each delivery wakes a thread and the event loop. Changes on restart.'),
  network: Section({
    enabled: Bool(true, 'TCP connection tracer and flow metrics.'),
  }, 'TCP connection tracing.'),
  http: httpTracingSchema,
}, 'eBPF.');
