// GET /metrics: the self-telemetry registry in the Prometheus text format, or OpenMetrics when the scraper
// prefers it in Accept (Prometheus itself does).
import { Type } from '@sinclair/typebox';
import type { ApiContext, RouteSpec } from '../route.js';

export const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_TEXT = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

/** True when Accept ranks OpenMetrics above (or without) the classic text format. */
export function wantsOpenMetrics(accept: string | undefined): boolean {
  if (!accept) return false;
  let om = -1;
  let text = -1;
  for (const part of accept.split(',')) {
    const [type, ...params] = part.trim().split(';').map((s) => s.trim());
    const qp = params.find((p) => p.startsWith('q='));
    const q = qp ? Number(qp.slice(2)) || 0 : 1;
    if (type === 'application/openmetrics-text') om = Math.max(om, q);
    else if (type === 'text/plain') text = Math.max(text, q);
  }
  return om > 0 && om >= text;
}

export function metricsRoutes(ctx: ApiContext): RouteSpec[] {
  return [{
    method: 'GET', path: '/metrics', operationId: 'getMetrics', tag: 'metrics', access: 'open',
    summary: 'Prometheus metrics',
    description: 'Telegen\'s own telemetry (`telegen_*`), in the Prometheus text format 0.0.4, or OpenMetrics 1.0.0 when `Accept` prefers `application/openmetrics-text`.',
    responses: {
      200: { description: 'Prometheus text format (or OpenMetrics)', contentType: [PROMETHEUS_TEXT, OPENMETRICS_TEXT], schema: Type.String() },
    },
    async handler(req, reply) {
      const { contentType, body } = await ctx.control.metrics.render(wantsOpenMetrics(req.headers.accept));
      reply.type(contentType);
      return body;
    },
  }];
}
