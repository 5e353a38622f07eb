// GET /openapi.json: the document generated from the routes themselves (see ../openapi.ts).
import { Type } from '@sinclair/typebox';
import type { RouteSpec } from '../route.js';

/** `document` returns the serialized JSON (built once: it never changes while the process runs). */
export function openApiRoute(document: () => string): RouteSpec {
  return {
    method: 'GET', path: '/openapi.json', operationId: 'getOpenApi', tag: 'meta', access: 'open',
    summary: 'OpenAPI specification', description: 'This document (OpenAPI 3.1), generated from the route schemas that serialize the responses.',
    responses: { 200: { description: 'OpenAPI 3.1 document', schema: Type.Object({ openapi: Type.String() }, { additionalProperties: true }) } },
    async handler(_req, reply) {
      reply.type('application/json; charset=utf-8');
      return document();
    },
  };
}
