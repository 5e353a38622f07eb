// The spans the export benchmarks send: HTTP server spans as the tracer makes them (7 attributes), ids numbered so
// a receiver could tell them apart, all sharing one resource.
import type { Resource } from '../../src/model/attributes.js';
import type { Span } from '../../src/model/span.js';

export function makeSpans(n: number, resource: Resource): Span[] {
  return Array.from({ length: n }, (_, i) => {
    const t = 1_700_000_000_000_000_000n + BigInt(i) * 1_000_000n;
    const id = Buffer.alloc(16);
    id.writeUInt32BE(i, 12);
    id.writeUInt32BE(0xdeadbeef, 0);
    return {
      traceId: id, spanId: id.subarray(8), parentSpanId: Buffer.from('0102030405060708', 'hex'), name: 'GET /api/v1/items/{id}', kind: 2,
      startTimeUnixNano: t, endTimeUnixNano: t + 1_234_567n,
      attributes: { 'http.request.method': 'GET', 'url.path': `/api/v1/items/${i % 1000}`, 'http.response.status_code': 200, 'server.address': '10.0.0.7', 'server.port': 8080, 'network.protocol.version': '1.1', 'user_agent.original': 'curl/8.0' },
      status: { code: 0 }, resource, scope: { name: 'telegen/http', version: '0.1.0' },
    };
  });
}
