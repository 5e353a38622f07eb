// Builds the fastify instance: registers every route (and its /api/v1 twin, and OPTIONS for preflights), the
// one request guard (CORS headers → rate limit → bearer auth → debug gate), and maps every failure — fastify's own,
// the HTTP parser's, unknown paths, wrong methods — onto the API's error format.
import type { Socket } from 'node:net';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import fastJsonStringify from 'fast-json-stringify';
import type { TSchema } from '@sinclair/typebox';
import type { Logger } from '../logging/logger.js';
import type { SelfMetrics } from '../telemetry/self-metrics.js';
import type { BearerAuth } from './auth.js';
import { corsHeaders, originAllowed, preflightHeaders } from './cors.js';
import { apiErrors, toApiError, type ApiError } from './errors.js';
import type { TokenBucketLimiter } from './rate-limit.js';
import { JSON_TYPE, type RouteMeta, type RouteSpec } from './route.js';
import { API_PREFIX, canonicalPath, type ApiSettings } from './settings.js';

/** The per-load pieces of the guard, swapped as a whole on reload. */
export interface GuardState {
  settings: ApiSettings;
  auth?: BearerAuth;
  limiter?: TokenBucketLimiter;
}

export interface ServerOptions {
  routes: readonly RouteSpec[];
  guard: () => GuardState;
  logger: Logger;
  metrics: SelfMetrics;
}

/** No endpoint takes a request body; anything larger than this is refused (413) before it is read. */
const BODY_LIMIT = 64 * 1024;

export function buildServer(opts: ServerOptions): FastifyInstance {
  const { guard, logger, metrics } = opts;
  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT,
    // A reload that moves the API closes the old server while the reload request itself is still answering.
    forceCloseConnections: 'idle',
    return503OnClosing: false,
    requestTimeout: 60_000,
    connectionTimeout: 0,
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: 200 },
    clientErrorHandler: writeClientError,
    // Errors fastify raises before routing (malformed URL encoding, bad content type header) skip the error
    // handler; they get the same error format here.
    frameworkErrors: (err, _req, reply) => {
      sendError(reply as FastifyReply, toApiError(err));
    },
  });

  // Response serializers are compiled on a route's first response instead of when the server starts: each route
  // is registered twice (with its /api/v1 twin) and fastify compiles every response schema of every route eagerly,
  // ~60 generated functions with their sources, which an idle agent that nobody asks would keep resident.
  // Same compiler and options as fastify's default (fast-json-stringify; no shared schemas, no serializer options).
  app.setSerializerCompiler(({ schema }) => lazySerializer(schema));

  const allowedByPath = new Map<string, string[]>();
  for (const r of opts.routes) {
    const list = allowedByPath.get(r.path) ?? [];
    list.push(r.method, ...(r.method === 'GET' ? ['HEAD'] : []));
    allowedByPath.set(canonicalPath(r.path), list);
  }
  for (const list of allowedByPath.values()) list.push('OPTIONS');

  // Bodies: none of the endpoints reads one. JSON must still be well-formed (400 otherwise); any other type
  // is read up to the limit and ignored, so `curl -X POST -d ''` works like a bare POST.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text) as unknown);
    } catch (e) {
      done(apiErrors.invalidRequest(`request body is not valid JSON: ${(e as Error).message}`, { content_type: 'application/json' }), undefined);
    }
  });
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, _body, done) => done(null, undefined));

  app.addHook('onRequest', (req, reply, done) => {
    const { settings, auth, limiter } = guard();
    const meta = req.routeOptions.config as Partial<RouteMeta>;
    const origin = req.headers.origin;
    if (originAllowed(origin, settings.cors)) reply.headers(corsHeaders(origin));
    if (limiter) {
      const wait = limiter.take(req.ip);
      if (wait > 0) {
        metrics.apiRateLimited.inc();
        return done(apiErrors.rateLimited(wait, limiter.ratePerSecond));
      }
    }
    const access = meta.access ?? 'open';
    const canonical = meta.canonical ?? canonicalPath(req.url);
    if (auth && access !== 'preflight' && !(access === 'open' && settings.auth.exempt.has(canonical))) {
      const denied = auth.check(req.headers.authorization);
      if (denied) return done(denied);
    }
    if (access === 'debug' && !settings.debug) return done(apiErrors.debugDisabled(canonical));
    done();
  });

  app.addHook('onResponse', (req, reply, done) => {
    const canonical = (req.routeOptions.config as Partial<RouteMeta>).canonical ?? 'unmatched';
    metrics.apiRequests.inc({ route: canonical, code: String(reply.statusCode) });
    done();
  });

  app.setErrorHandler((err: FastifyError | ApiError, req: FastifyRequest, reply: FastifyReply) => {
    const e = toApiError(err);
    if (e.status >= 500) logger.error({ err: (err as Error).message, stack: (err as Error).stack, path: req.url }, 'api request failed');
    return sendError(reply, e);
  });

  app.setNotFoundHandler(async (req) => {
    const path = canonicalPath(req.url);
    const allowed = allowedByPath.get(path);
    if (allowed) throw apiErrors.methodNotAllowed(req.method, path, allowed);
    throw apiErrors.notFound(req.method, path.length > 200 ? `${path.slice(0, 200)}…` : path);
  });

  for (const prefix of ['', API_PREFIX]) {
    for (const r of opts.routes) {
      const config: RouteMeta = { access: r.access, canonical: canonicalPath(r.path) };
      app.route({
        method: r.method,
        url: prefix + r.path,
        schema: { ...(r.querystring ? { querystring: r.querystring } : {}), response: jsonResponseSchemas(r) },
        config,
        handler: r.handler,
      });
    }
    for (const [path, allowed] of allowedByPath) {
      const config: RouteMeta = { access: 'preflight', canonical: path };
      app.route({
        method: 'OPTIONS', url: prefix + path, config,
        async handler(req, reply) {
          const origin = req.headers.origin;
          if (origin !== undefined && req.headers['access-control-request-method'] !== undefined) {
            const { settings } = guard();
            if (!originAllowed(origin, settings.cors)) {
              throw apiErrors.forbidden(settings.cors.enabled ? `CORS: origin ${origin} is not allowed` : 'CORS is not enabled', {
                origin, setting: 'self_telemetry.cors.allowed_origins',
              });
            }
            reply.headers(preflightHeaders(origin, allowed, req.headers['access-control-request-headers']));
          }
          return reply.code(204).header('allow', allowed.join(', ')).send();
        },
      });
    }
  }
  return app;
}

function sendError(reply: FastifyReply, e: ApiError): FastifyReply {
  return reply.code(e.status).headers(e.headers).type(`${JSON_TYPE}; charset=utf-8`).send(JSON.stringify(e.body()));
}

type Serializer = (data: unknown) => string;

/** A serializer that compiles its schema when first used. */
function lazySerializer(schema: unknown): Serializer {
  let compiled: Serializer | undefined;
  return (data) => (compiled ??= fastJsonStringify(schema as fastJsonStringify.Schema) as Serializer)(data);
}

/** Fastify serializes a route's JSON responses with their schemas (fast-json-stringify); other types go as they are. */
function jsonResponseSchemas(r: RouteSpec): Record<number, TSchema> {
  const out: Record<number, TSchema> = {};
  for (const [status, spec] of Object.entries(r.responses)) {
    if (spec.schema && (spec.contentType === undefined || spec.contentType === JSON_TYPE)) out[Number(status)] = spec.schema;
  }
  return out;
}

/** Requests the HTTP parser rejects (oversized headers, garbage) still get the error format, then the socket closes. */
function writeClientError(err: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const reason = status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request';
  const body = JSON.stringify(apiErrors.invalidRequest(status === 431 ? 'request headers too large' : status === 408 ? 'request timed out' : 'malformed HTTP request', { reason: err.code ?? 'parse_error' }, status).body());
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
