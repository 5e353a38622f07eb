// CORS: only origins in `allowed_origins` ("*" for any) get CORS headers; every other origin gets none, so
// browsers keep their same-origin rule. Preflights are answered by the OPTIONS routes (see server.ts).
import type { ApiSettings } from './settings.js';

export const PREFLIGHT_MAX_AGE_SECONDS = 600;

export function originAllowed(origin: string | undefined, cors: ApiSettings['cors']): origin is string {
  return origin !== undefined && cors.enabled && (cors.anyOrigin || cors.origins.has(origin));
}

/** Headers for an actual (non-preflight) response to an allowed origin. */
export function corsHeaders(origin: string): Record<string, string> {
  return {
    'access-control-allow-origin': origin,
    'access-control-expose-headers': 'Retry-After, WWW-Authenticate, Allow',
    vary: 'Origin',
  };
}

/** Headers for a preflight from an allowed origin. */
export function preflightHeaders(origin: string, allowed: readonly string[], requestedHeaders: string | undefined): Record<string, string> {
  return {
    ...corsHeaders(origin),
    'access-control-allow-methods': allowed.join(', '),
    'access-control-allow-headers': requestedHeaders || 'Authorization, Content-Type',
    'access-control-max-age': String(PREFLIGHT_MAX_AGE_SECONDS),
  };
}
