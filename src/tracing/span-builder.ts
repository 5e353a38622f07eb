// An HTTP exchange → an OTel span with the HTTP semantic conventions (v1.26+ names).
import { SpanKind, StatusCode, type Span } from '../model/span.js';
import type { Attributes, Resource, Scope } from '../model/attributes.js';
import type { HttpExchange } from './http-connection.js';
import { KNOWN_METHODS } from './http-head.js';
import type { RouteMatcher } from './route.js';
import { traceIdOf, type TraceCtx } from './span-context.js';

export const HTTP_SCOPE: Scope = { name: 'telegen/http', version: '0.1.0' };

export interface SpanTimes {
  startNs: bigint;
  endNs: bigint;
}

export interface TargetParts {
  path?: string;
  query?: string;
}

/** Split a request-target (origin, absolute, authority or asterisk form) into path and query. */
export function splitTarget(target: string): TargetParts {
  if (target === '*') return {};
  let t = target;
  if (!t.startsWith('/')) {
    const scheme = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/.exec(t);
    if (!scheme) return {}; // authority-form (CONNECT host:port)
    t = t.slice(scheme[0].length) || '/';
  }
  const hash = t.indexOf('#');
  if (hash >= 0) t = t.slice(0, hash);
  const q = t.indexOf('?');
  return q >= 0 ? { path: t.slice(0, q) || '/', query: t.slice(q + 1) } : { path: t };
}

/** Host header → [host, port?]; IPv6 literals keep no brackets. */
export function splitHost(host: string | undefined): [string, number | undefined] | undefined {
  if (!host) return undefined;
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(host.trim());
  if (!m) return undefined;
  const name = m[1]!.replace(/^\[|\]$/g, '');
  return [name, m[2] ? Number(m[2]) : undefined];
}

export function normalizeMethod(method: string): string {
  return KNOWN_METHODS.has(method) ? method : '_OTHER';
}

export interface BuiltSpan {
  span: Span;
  method: string;
  status: number;
  route: string | undefined;
}

export function buildSpan(
  ex: HttpExchange<TraceCtx>, times: SpanTimes, resource: Resource, routes: RouteMatcher, keepQuery: boolean,
): BuiltSpan {
  const req = ex.request.head;
  const status = ex.response.head.status ?? 0;
  const server = ex.conn.role === 'server';
  const rawMethod = req.method ?? 'GET';
  const method = normalizeMethod(rawMethod);
  const { path, query } = splitTarget(req.target ?? '');
  const route = path !== undefined ? routes.route(path) : undefined;
  const hostHeader = splitHost(req.headers.host);

  const a: Attributes = {
    'http.request.method': method,
    'http.response.status_code': status,
    'network.protocol.name': 'http',
    'network.protocol.version': req.version,
    'network.transport': 'tcp',
  };
  if (method !== rawMethod) a['http.request.method_original'] = rawMethod;
  if (path !== undefined) a['url.path'] = path;
  if (keepQuery && query !== undefined) a['url.query'] = query;
  if (req.headers.userAgent) a['user_agent.original'] = req.headers.userAgent;
  if (server) {
    if (route !== undefined) a['http.route'] = route;
    a['server.address'] = hostHeader?.[0] ?? ex.conn.localAddress;
    a['server.port'] = hostHeader?.[1] ?? ex.conn.localPort;
    a['client.address'] = ex.conn.remoteAddress;
    a['client.port'] = ex.conn.remotePort;
    a['network.peer.address'] = ex.conn.remoteAddress;
    a['network.peer.port'] = ex.conn.remotePort;
  } else {
    const host = hostHeader?.[0] ?? ex.conn.remoteAddress;
    const port = hostHeader?.[1] ?? ex.conn.remotePort;
    a['server.address'] = host;
    a['server.port'] = port;
    a['client.address'] = ex.conn.localAddress;
    a['client.port'] = ex.conn.localPort;
    a['network.peer.address'] = ex.conn.remoteAddress;
    a['network.peer.port'] = ex.conn.remotePort;
    if (path !== undefined) {
      const authority = host.includes(':') ? `[${host}]` : host;
      a['url.full'] = `http://${authority}${port === 80 ? '' : `:${port}`}${path}${keepQuery && query !== undefined ? `?${query}` : ''}`;
    }
  }
  if (status >= 500 || (!server && status >= 400)) a['error.type'] = String(status);
  if (ex.response.inferredEnd) a['telegen.http.end_inferred'] = true;

  const error = status >= 500 || (!server && status >= 400);
  const ctx = ex.context;
  const span: Span = {
    traceId: traceIdOf(ctx),
    spanId: ctx.spanId,
    ...(ctx.parentSpanId ? { parentSpanId: ctx.parentSpanId } : {}),
    ...(ctx.traceState ? { traceState: ctx.traceState } : {}),
    name: server && route !== undefined ? `${method} ${route}` : method === '_OTHER' ? 'HTTP' : method,
    kind: server ? SpanKind.SERVER : SpanKind.CLIENT,
    startTimeUnixNano: times.startNs,
    endTimeUnixNano: times.endNs < times.startNs ? times.startNs : times.endNs,
    attributes: a,
    status: error ? { code: StatusCode.ERROR } : { code: StatusCode.UNSET },
    resource,
    scope: HTTP_SCOPE,
  };
  return { span, method, status, route };
}
