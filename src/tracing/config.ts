import { Bool, Int, Section, StrList } from '../config/types.js';

/** `agent.ebpf.http`: zero-code HTTP/1.x tracing. */
export const httpTracingSchema = Section({
  enabled: Bool(true, 'Trace HTTP/1.x servers and clients on the host.'),
  capture_bytes: Int(1024, 'Bytes of each message copied to user space (headers and traceparent must fit).', 256, 16384),
  keep_query: Bool(false, 'Keep the query string in url.path (dropped by default: it may carry secrets).'),
  route_patterns: StrList([], 'Route templates for http.route, e.g. "/users/{id}"; unmatched paths use the heuristic.'),
}, 'HTTP tracing.');
