// POST /admin/reload and POST /admin/flush: both go through the Agent (serialized reloads with rollback; the
// pipeline's flush), never to a subsystem directly.
import { apiErrors } from '../errors.js';
import type { ApiContext, RouteSpec } from '../route.js';
import { ErrorBodySchema, FlushSchema, ReloadOkSchema } from '../schemas.js';

export function adminRoutes(ctx: ApiContext): RouteSpec[] {
  return [
    {
      method: 'POST', path: '/admin/reload', operationId: 'postAdminReload', tag: 'admin', access: 'admin',
      summary: 'Reload configuration',
      description: 'Re-reads the configuration file and applies it. 400 when the new file is invalid (the running configuration is kept; `details` names the key path and line). 500 when a subsystem could not apply it (every subsystem was rolled back). Never exempt from auth.',
      responses: {
        200: { description: 'Success', schema: ReloadOkSchema },
        400: { description: 'Invalid configuration', schema: ErrorBodySchema },
        500: { description: 'Reload failed; rolled back to the previous configuration', schema: ErrorBodySchema },
      },
      async handler() {
        const r = await ctx.control.reload();
        if (r.ok) return { status: 'ok', message: 'Configuration reloaded' };
        if (r.status === 400) {
          const errors = r.issues.filter((i) => i.severity === 'error');
          const first = errors[0];
          throw apiErrors.invalidRequest('invalid configuration; the running configuration is kept', {
            file: ctx.control.configPath(),
            ...(first ? { path: first.path, line: first.line ?? null, column: first.column ?? null, location: first.location ?? null } : {}),
            issues: errors.map((i) => ({ path: i.path, message: i.message, line: i.line ?? null, column: i.column ?? null, location: i.location ?? null })),
            ...(errors.length === 0 ? { reason: r.message } : {}),
          });
        }
        throw apiErrors.internal(`reload failed: ${r.message}; rolled back to the previous configuration`, { subsystem: r.subsystem, rolled_back: true });
      },
    },
    {
      method: 'POST', path: '/admin/flush', operationId: 'postAdminFlush', tag: 'admin', access: 'admin',
      summary: 'Flush all queues',
      description: 'Sends everything queued now; `flushed` is the number of items sent per signal. Never exempt from auth.',
      responses: { 200: { description: 'Success', schema: FlushSchema } },
      async handler() {
        const f = await ctx.control.flush();
        return { status: 'ok', flushed: { traces: f.traces, metrics: f.metrics, logs: f.logs, profiles: f.profiles } };
      },
    },
  ];
}
