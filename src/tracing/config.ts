import { Bool, Duration, Int, Section, StrList } from '../config/types.js';

/** `agent.ebpf.http`: zero-code HTTP/1.x tracing. */
export const httpTracingSchema = Section({
  enabled: Bool(true, 'Trace HTTP/1.x servers and clients on the host.'),
  capture_bytes: Int(1024, 'Bytes copied to user space from each read/write on a traced connection (headers and traceparent must fit).', 64, 8192),
  keep_query: Bool(false, 'Keep the query string in url.path (dropped by default: it may carry secrets).'),
  route_patterns: StrList([], 'Route templates for http.route, e.g. "/users/{id}" or "/static/*"; unmatched paths use the heuristic (identifier-like segments become {id}).'),
  max_connections: Int(65536, 'Connections tracked at once (kernel map and user-space state); the least recently used are evicted (counted).', 256, 1048576),
  shed_backlog_percent: Int(25, 'Kernel-side shedding: while more than this share (%) of the event ring buffer waits for user space, new HTTP exchanges are not captured (one hash lookup per syscall instead of a copy), so a saturated host keeps its CPU for the workload; skipped exchanges are counted in telegen_http_dropped_total{reason="shed"}. 100 disables.', 1, 100),
  max_exchanges_per_cpu: Int(25000, 'Kernel-side shedding: HTTP exchanges captured per second on each CPU (token bucket, one second of burst); beyond it exchanges are not captured (counted as shed), which bounds the agent\'s CPU when a server saturates the host (about 4 µs of agent CPU per exchange: 25k/s per CPU bounds it near 10% of a core per CPU). 0: no bound.', 0, 10000000),
  batch_delay: Duration('1s', 'Longest captured HTTP events wait in the agent before they are parsed into spans (also cut at 4096 events or 4 MiB). Processing in bursts is what keeps the per-request cost low at modest rates: a burst runs on warm CPU caches, while small bursts every delivery (agent.ebpf.delivery_latency) each pay to warm them up again (measured: ~14 µs of agent CPU per request at 1k req/s with 100 ms, ~9 µs with 1 s). Spans reach the pipeline up to this much later (the export batches them for flush_interval anyway).'),
  overload: Section({
    enabled: Bool(true, 'Suspend HTTP capture while it costs a saturated host too much: every HTTP program is detached for suspend_for when, over a one-second check, a CPU both shed HTTP exchanges (shed_backlog_percent, max_exchanges_per_cpu) and was busy at least saturated_cpu_percent, or the agent used more than max_agent_cpu_percent of the host\'s CPU while HTTP events flowed and the host\'s CPUs together were busy at least saturated_cpu_percent. Detaching is the only way the workload stops paying for the hooks: shedding alone still leaves a saturated nginx 0.75–0.84 of its throughput (bench:syscall-hooks). Capture then resumes by itself; connections open meanwhile are adopted and traced from their next request. Spans and RED metrics are missing while suspended: telegen_http_capture_suspended, telegen_http_capture_suspensions_total{reason} and the tracer\'s status say when and why.'),
    max_agent_cpu_percent: Int(10, 'The agent\'s CPU (all its threads) over the last second, in % of the host\'s total CPU time (all CPUs: 10 on a 2-core host is 20% of one core), above which HTTP capture is suspended while the host is also busy at least saturated_cpu_percent.', 1, 100),
    saturated_cpu_percent: Int(70, 'Busy share (%, hypervisor steal left out) over the last second at which a shedding CPU, or the host\'s CPUs together, count as saturated. 70, not 90: a single-threaded server saturated by a load tool on 2 cores leaves each CPU only 70–85% busy while traced (the two ping-pong and migrate between CPUs).', 1, 100),
    suspend_for: Duration('30s', 'How long HTTP capture stays suspended each time (then it resumes and is checked again).'),
  }, 'Overload protection of the traced workload.'),
  metrics_interval: Duration('15s', 'How often the RED histograms (http.server/client.request.duration) are sent through the pipeline.'),
  max_metric_series: Int(2000, 'Distinct (kind, service, method, status, route) series kept; new ones beyond are dropped (counted).', 10, 100000),
}, 'HTTP tracing.');
