// The API's live settings, derived from `self_telemetry` once per (re)load and swapped as a whole: requests
// in flight see one consistent set. Invalid combinations are refused here so a reload rolls back.
import type { TelegenConfig } from '../config/schema.js';

export interface ApiSettings {
  listen: string;
  auth: { enabled: boolean; token: string; exempt: ReadonlySet<string> };
  rateLimit: { enabled: boolean; requestsPerSecond: number };
  cors: { enabled: boolean; anyOrigin: boolean; origins: ReadonlySet<string> };
  debug: boolean;
}

/** Paths that are never exempt from auth, whatever exempt_paths says. */
export const isPrivileged = (path: string) => path.startsWith('/admin') || path.startsWith('/debug');

export function apiSettings(config: TelegenConfig): { settings: ApiSettings; warnings: string[] } {
  const st = config.self_telemetry;
  const warnings: string[] = [];
  if (st.auth.enabled && st.auth.bearer_token === '') {
    throw new Error('self_telemetry.auth.enabled is true but self_telemetry.auth.bearer_token is empty');
  }
  const exempt = new Set<string>();
  for (const p of st.auth.exempt_paths) {
    const canonical = canonicalPath(p);
    if (isPrivileged(canonical)) warnings.push(`self_telemetry.auth.exempt_paths: ${p} is ignored: admin and debug paths always require the token`);
    else exempt.add(canonical);
  }
  return {
    warnings,
    settings: {
      listen: st.listen,
      auth: { enabled: st.auth.enabled, token: st.auth.bearer_token, exempt },
      rateLimit: { enabled: st.rate_limit.enabled, requestsPerSecond: st.rate_limit.requests_per_second },
      cors: { enabled: st.cors.enabled, anyOrigin: st.cors.allowed_origins.includes('*'), origins: new Set(st.cors.allowed_origins) },
      debug: st.debug.enabled,
    },
  };
}

export const API_PREFIX = '/api/v1';

/** `/api/v1/status/?x=1` → `/status`: the path a route is known by (exempt paths, 405 lookup, metrics). */
export function canonicalPath(url: string): string {
  let p = url;
  const q = p.indexOf('?');
  if (q >= 0) p = p.slice(0, q);
  if (p === API_PREFIX || p.startsWith(`${API_PREFIX}/`)) p = p.slice(API_PREFIX.length) || '/';
  while (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  return p || '/';
}

/** host:port → what to bind. ":19090" (no host) listens on every interface. */
export function parseListen(listen: string): { host: string | undefined; port: number } {
  const i = listen.lastIndexOf(':');
  if (i < 0) throw new Error(`self_telemetry.listen: "${listen}" is not host:port`);
  const rawHost = listen.slice(0, i);
  const port = Number(listen.slice(i + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`self_telemetry.listen: bad port in "${listen}"`);
  const host = rawHost.replace(/^\[(.*)\]$/, '$1');
  return { host: host === '' ? undefined : host, port };
}
