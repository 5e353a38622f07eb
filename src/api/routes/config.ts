// GET /config: the effective configuration with every secret redacted (the config schema decides what is one).
import { configSchema } from '../../config/schema.js';
import { redact } from '../../config/schema-walk.js';
import type { ApiContext, RouteSpec } from '../route.js';

export function configRoutes(ctx: ApiContext): RouteSpec[] {
  return [{
    method: 'GET', path: '/config', operationId: 'getConfig', tag: 'config', access: 'open',
    summary: 'Current configuration (sanitized)',
    description: 'The running configuration after defaults, environment and flags. Sensitive values (tokens, header values) are "<redacted>".',
    responses: { 200: { description: 'Success', schema: configSchema } },
    handler: async () => redact(configSchema, ctx.control.config()),
  }];
}
