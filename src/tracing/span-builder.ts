// An HTTP exchange → an OTel span with the HTTP semantic conventions (v1.26+ names).
import { SpanKind, StatusCode, type Span } from '../model/span.js';
import type { Attributes, Resource, Scope } from '../model/attributes.js';
import type { HttpExchange } from './http-connection.js';
import { KNOWN_METHODS } from './http-head.js';
import type { RouteMatcher } from './route.js';
import { traceIdOf, type TraceCtx } from './span-context.js';

/** Shared, never mutated: one fewer object per span. */
const STATUS_ERROR = Object.freeze({ code: StatusCode.ERROR });
const STATUS_UNSET = Object.freeze({ code: StatusCode.UNSET });

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
  // A connection's requests nearly always carry the same Host: the last answer is reused (one string compare).
  if (host === lastHost) return lastSplit;
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(host.trim());
  const split: [string, number | undefined] | undefined = m
    ? [m[1]!.startsWith('[') ? m[1]!.slice(1, -1) : m[1]!, m[2] ? Number(m[2]) : undefined]
    : undefined;
  lastHost = host;
  lastSplit = split;
  return split;
}
let lastHost: string | undefined;
let lastSplit: [string, number | undefined] | undefined;

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

  // The always-present attributes in one literal (one object shape for every span of a kind; the conditional
  // ones are appended after).
  const c = ex.conn;
  // The server end is this connection's local side on a server span and its remote side on a client span.
  const serverAddress = server ? c.localAddress : c.remoteAddress;
  const serverPort = server ? c.localPort : c.remotePort;
  const a: Attributes = {
    'http.request.method': method,
    'http.response.status_code': status,
    'network.protocol.name': 'http',
    'network.protocol.version': req.version,
    'network.transport': 'tcp',
    'server.address': hostHeader?.[0] ?? serverAddress,
    'server.port': hostHeader?.[1] ?? serverPort,
    'client.address': server ? c.remoteAddress : c.localAddress,
    'client.port': server ? c.remotePort : c.localPort,
    'network.peer.address': c.remoteAddress,
    'network.peer.port': c.remotePort,
  };
  if (method !== rawMethod) a['http.request.method_original'] = rawMethod;
  if (path !== undefined) a['url.path'] = path;
  if (keepQuery && query !== undefined) a['url.query'] = query;
  if (req.headers.userAgent) a['user_agent.original'] = req.headers.userAgent;
  if (server) {
    if (route !== undefined) a['http.route'] = route;
  } else {
    const host = a['server.address'] as string;
    const port = a['server.port'] as number;
    if (path !== undefined) {
      const authority = host.includes(':') ? `[${host}]` : host;
      a['url.full'] = `http://${authority}${port === 80 ? '' : `:${port}`}${path}${keepQuery && query !== undefined ? `?${query}` : ''}`;
    }
  }
  if (status >= 500 || (!server && status >= 400)) a['error.type'] = String(status);
  if (ex.response.inferredEnd) a['telegen.http.end_inferred'] = true;

  const error = status >= 500 || (!server && status >= 400);
  const ctx = ex.context;
  // No object spreads here: they cost an intermediate object and a slow property copy per span.
  const span: Span = {
    traceId: traceIdOf(ctx),
    spanId: ctx.spanId,
    parentSpanId: ctx.parentSpanId,
    traceState: ctx.traceState,
    name: server && route !== undefined ? `${method} ${route}` : method === '_OTHER' ? 'HTTP' : method,
    kind: server ? SpanKind.SERVER : SpanKind.CLIENT,
    startTimeUnixNano: times.startNs,
    endTimeUnixNano: times.endNs < times.startNs ? times.startNs : times.endNs,
    attributes: a,
    status: error ? STATUS_ERROR : STATUS_UNSET,
    resource,
    scope: HTTP_SCOPE,
  };
  return { span, method, status, route };
}
