import { Bool, Int, Section } from '../config/types.js';
import { httpTracingSchema } from '../tracing/config.js';

/** `agent.ebpf`: the kernel side (libbpf addon, programs, ring buffer) and the tracers on it. */
export const ebpfSchema = Section({
  enabled: Bool(true, 'Load the eBPF programs.'),
  required: Bool(false, 'Exit (code 3) when eBPF cannot start, instead of running without it.'),
  ringbuf_size: Int(16777216, 'Size in bytes of the event ring buffer (a power of two, multiple of the page size).', 4096),
  network: Section({
    enabled: Bool(true, 'TCP connection tracer and flow metrics.'),
  }, 'TCP connection tracing.'),
  http: httpTracingSchema,
}, 'eBPF.');
