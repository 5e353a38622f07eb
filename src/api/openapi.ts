// /openapi.json, generated from the route list the server registers: the same TypeBox objects that serialize
// the responses are the schemas here, so the document cannot drift from what is served.
import type { TSchema } from '@sinclair/typebox';
import { ERROR_CODES } from './errors.js';
import { JSON_TYPE, type RouteSpec } from './route.js';
import { API_PREFIX } from './settings.js';
import { ErrorBodySchema } from './schemas.js';

type Json = Record<string, unknown>;

/** A plain JSON copy (TypeBox's symbol keys dropped); the error body becomes a reference to the component. */
const plain = (s: TSchema): Json => (s === ErrorBodySchema ? { $ref: '#/components/schemas/Error' } : JSON.parse(JSON.stringify(s)) as Json);

const errorResponse = (description: string, headers: Json = {}) => ({
  description, headers, content: { [JSON_TYPE]: { schema: { $ref: '#/components/schemas/Error' } } },
});

const TAGS: Record<string, string> = {
  health: 'Liveness and readiness probes', metrics: 'Prometheus metrics', status: 'Agent and subsystem status',
  config: 'Effective configuration', debug: 'Runtime profiling (only when self_telemetry.debug.enabled)',
  admin: 'Administrative actions', meta: 'This document',
};

export function openApiDocument(routes: readonly RouteSpec[], version: string): Json {
  const paths: Record<string, Json> = {};
  const allowedByPath = new Map<string, string[]>();
  for (const r of routes) {
    const list = allowedByPath.get(r.path) ?? [];
    list.push(r.method, ...(r.method === 'GET' ? ['HEAD'] : []));
    allowedByPath.set(r.path, list);
  }
  for (const prefix of ['', API_PREFIX]) {
    for (const r of routes) {
      const url = prefix + r.path;
      paths[url] ??= {};
      paths[url]![r.method.toLowerCase()] = operation(r, prefix ? `${r.operationId}V1` : r.operationId);
    }
    for (const [path, methods] of allowedByPath) {
      paths[prefix + path]!.options = {
        operationId: `options${prefix ? 'V1' : ''}${path.replace(/[^a-zA-Z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
        tags: ['meta'],
        summary: 'Allowed methods and CORS preflight',
        description: 'Without `Access-Control-Request-Method`: 204 with `Allow`. A CORS preflight from an origin in `self_telemetry.cors.allowed_origins` gets 204 with the CORS headers; from any other origin (or with CORS disabled) 403 `forbidden`.',
        security: [{}],
        responses: {
          204: { description: 'Allowed', headers: { Allow: { schema: { type: 'string', example: [...methods, 'OPTIONS'].join(', ') } } } },
          403: errorResponse('Origin not allowed'),
          429: errorResponse('Rate limited', { 'Retry-After': { schema: { type: 'integer' } } }),
        },
      };
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Telegen API', version,
      description: 'REST API of the Telegen agent: health, readiness, metrics, status, configuration, debug and admin. ' +
        `Every path is also served under ${API_PREFIX}. Errors are always {"error": code, "message", "details"}; the codes: ` +
        Object.entries(ERROR_CODES).map(([c, d]) => `${c} (${d})`).join(', ') + '. An unknown path is 404 not_found; a known path with a ' +
        'method it does not serve is 405 invalid_request with an Allow header and details.allowed_methods; 429 (rate limited) uses service_unavailable.',
    },
    tags: Object.entries(TAGS).map(([name, description]) => ({ name, description })),
    paths,
    components: {
      schemas: { Error: JSON.parse(JSON.stringify(ErrorBodySchema)) as Json },
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'self_telemetry.auth.bearer_token, when self_telemetry.auth.enabled' },
      },
    },
  };
}

function operation(r: RouteSpec, operationId: string): Json {
  const responses: Record<string, Json> = {};
  for (const [status, spec] of Object.entries(r.responses)) {
    const types = spec.contentType === undefined ? [JSON_TYPE] : typeof spec.contentType === 'string' ? [spec.contentType] : [...spec.contentType];
    const schema = spec.schema ? plain(spec.schema) : { type: 'string', format: 'binary' };
    responses[status] = { description: spec.description, content: Object.fromEntries(types.map((t) => [t, { schema }])) };
  }
  responses['401'] ??= errorResponse('Authentication required (when self_telemetry.auth.enabled)', { 'WWW-Authenticate': { schema: { type: 'string' } } });
  if (r.access === 'debug') responses['404'] ??= errorResponse('Debug endpoints are disabled (self_telemetry.debug.enabled is false)');
  responses['429'] ??= errorResponse('Rate limited (when self_telemetry.rate_limit.enabled)', { 'Retry-After': { schema: { type: 'integer' } } });
  responses.default = errorResponse('Any other error, in the standard error format');
  const parameters = r.querystring
    ? Object.entries(r.querystring.properties).map(([name, s]) => ({
      name, in: 'query', required: (r.querystring!.required ?? []).includes(name), schema: plain(s as TSchema),
      ...(typeof (s as TSchema).description === 'string' ? { description: (s as TSchema).description } : {}),
    }))
    : undefined;
  return {
    operationId, tags: [r.tag], summary: r.summary,
    ...(r.description ? { description: r.description } : {}),
    ...(parameters ? { parameters } : {}),
    // Open routes need the token only when auth is on and the path is not in exempt_paths.
    security: r.access === 'open' ? [{}, { bearerAuth: [] }] : [{ bearerAuth: [] }],
    responses,
  };
}
