// Probes: /healthz (liveness: stays 200 during a graceful shutdown so the drain is not killed) and /ready.
import type { ApiContext, RouteSpec } from '../route.js';
import { HealthzSchema, ReadySchema, UnhealthySchema } from '../schemas.js';

export function healthRoutes(ctx: ApiContext): RouteSpec[] {
  return [
    {
      method: 'GET', path: '/healthz', operationId: 'getHealthz', tag: 'health', access: 'open',
      summary: 'Liveness probe',
      description: '200 while the process can do its job; 503 with the reason when the event loop has stalled or a subsystem failed fatally. Stays 200 during a graceful shutdown.',
      responses: {
        200: { description: 'Healthy', schema: HealthzSchema },
        503: { description: 'Unhealthy', schema: UnhealthySchema },
      },
      async handler(_req, reply) {
        const l = ctx.control.liveness();
        if (l.ok) return { status: 'ok' };
        reply.code(503);
        return { status: 'unhealthy', reason: l.reason };
      },
    },
    {
      method: 'GET', path: '/ready', operationId: 'getReady', tag: 'health', access: 'open',
      summary: 'Readiness probe',
      description: 'One check per subsystem (`ebpf`, `otlp`, `discovery` always present), each `ok`, `disabled` or `failed: <reason>`. 200 only when the agent is running and every enabled check is ok.',
      responses: {
        200: { description: 'Ready', schema: ReadySchema },
        503: { description: 'Not ready', schema: ReadySchema },
      },
      async handler(_req, reply) {
        const r = ctx.control.readiness();
        if (!r.ready) reply.code(503);
        return { status: r.ready ? 'ready' : 'not_ready', checks: r.checks };
      },
    },
  ];
}
