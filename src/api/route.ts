// What a route is: method, path, the schemas of its responses, who may call it, and its handler. The server
// registers each one (also under /api/v1) and /openapi.json is generated from the very same list.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TObject, TSchema } from '@sinclair/typebox';
import type { AgentControl } from '../agent/control.js';
import type { ApiSettings } from './settings.js';
import type { RuntimeStats } from './debug/runtime-stats.js';

/**
 * `open`: bearer auth unless the path is in `exempt_paths`. `admin` and `debug`: always authenticated when auth is
 * on; `debug` is also 404 unless `self_telemetry.debug.enabled`.
 */
export type Access = 'open' | 'admin' | 'debug';

export const JSON_TYPE = 'application/json';

export interface ResponseSpec {
  description: string;
  /** The body schema (JSON responses are serialized with it); absent for binary bodies. */
  schema?: TSchema;
  /** Defaults to application/json; several when the client chooses (e.g. Prometheus text or OpenMetrics). */
  contentType?: string | readonly string[];
  headers?: Record<string, string>;
}

export interface RouteSpec {
  method: 'GET' | 'POST';
  /** Canonical path (the route is also served under /api/v1). */
  path: string;
  operationId: string;
  tag: string;
  summary: string;
  description?: string;
  access: Access;
  querystring?: TObject;
  responses: Record<number, ResponseSpec>;
  handler(req: FastifyRequest, reply: FastifyReply): Promise<unknown>;
}

/** What route handlers may use: the Agent through AgentControl only, the live settings, runtime figures. */
export interface ApiContext {
  readonly control: AgentControl;
  settings(): ApiSettings;
  readonly runtime: RuntimeStats;
}

/** Per-route data fastify carries to the hooks (`req.routeOptions.config`). */
export interface RouteMeta {
  access: Access | 'preflight';
  canonical: string;
}
