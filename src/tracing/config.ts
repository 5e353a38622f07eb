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
  metrics_interval: Duration('15s', 'How often the RED histograms (http.server/client.request.duration) are sent through the pipeline.'),
  max_metric_series: Int(2000, 'Distinct (kind, service, method, status, route) series kept; new ones beyond are dropped (counted).', 10, 100000),
}, 'HTTP tracing.');
