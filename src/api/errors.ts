// The one registry of the API's coded errors. Every error body the API writes is
// `{"error": code, "message": …, "details": {…}}` with a code from the API reference's table; each kind of
// failure below picks its code and HTTP status here, and nowhere else.

/** The API reference's error codes and what each means (also the OpenAPI `Error.error` enum). */
export const ERROR_CODES = {
  invalid_request: 'Malformed request',
  not_found: 'Resource not found',
  unauthorized: 'Authentication required',
  forbidden: 'Permission denied',
  internal_error: 'Server error',
  service_unavailable: 'Temporarily unavailable',
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;

export type ErrorDetails = Record<string, unknown>;

export interface ErrorBody {
  error: ErrorCode;
  message: string;
  details: ErrorDetails;
}

/** An error the API answers with: its code, HTTP status, extra response headers and details. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly status: number,
    message: string,
    readonly details: ErrorDetails = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  body(): ErrorBody {
    return { error: this.code, message: this.message, details: this.details };
  }
}

/**
 * Every kind of failure the API reports. The codes are only the reference's six; a status the table lacks
 * (405, 413, 415, 429) uses the closest code: a wrong method or body is a malformed request, and rate limiting
 * is "temporarily unavailable" for that client.
 */
export const apiErrors = {
  invalidRequest: (message: string, details: ErrorDetails = {}, status = 400) =>
    new ApiError('invalid_request', status, message, details),
  methodNotAllowed: (method: string, path: string, allowed: readonly string[]) =>
    new ApiError('invalid_request', 405, `method ${method} is not allowed on ${path}; allowed: ${allowed.join(', ')}`,
      { method, path, allowed_methods: [...allowed] }, { allow: allowed.join(', ') }),
  notFound: (method: string, path: string) =>
    new ApiError('not_found', 404, `no such endpoint: ${method} ${path}`, { method, path }),
  debugDisabled: (path: string) =>
    new ApiError('not_found', 404, `${path} is served only when self_telemetry.debug.enabled is true`, { path, setting: 'self_telemetry.debug.enabled' }),
  noRuntimeEquivalent: (profile: string, why: string, see: string) =>
    new ApiError('not_found', 404, `the ${profile} profile has no Node.js equivalent: ${why}`, { profile, see }),
  unauthorized: (reason: string) =>
    new ApiError('unauthorized', 401, reason, { scheme: 'Bearer' }, { 'www-authenticate': 'Bearer realm="telegen"' }),
  forbidden: (message: string, details: ErrorDetails = {}) => new ApiError('forbidden', 403, message, details),
  rateLimited: (retryAfterSeconds: number, requestsPerSecond: number) =>
    new ApiError('service_unavailable', 429, 'too many requests: rate limit exceeded',
      { retry_after_seconds: retryAfterSeconds, requests_per_second: requestsPerSecond }, { 'retry-after': String(retryAfterSeconds) }),
  busy: (message: string, retryAfterSeconds: number) =>
    new ApiError('service_unavailable', 503, message, { retry_after_seconds: retryAfterSeconds }, { 'retry-after': String(retryAfterSeconds) }),
  internal: (message: string, details: ErrorDetails = {}) => new ApiError('internal_error', 500, message, details),
} as const;

/** Maps any thrown value (fastify's own errors included) onto the registry, never leaking a stack. */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  const err = e as { statusCode?: unknown; code?: unknown; message?: unknown; validation?: unknown; validationContext?: unknown };
  const status = typeof err?.statusCode === 'number' ? err.statusCode : 500;
  const message = typeof err?.message === 'string' ? err.message : 'unexpected error';
  const details: ErrorDetails = {};
  if (typeof err?.code === 'string') details.reason = err.code;
  if (Array.isArray(err?.validation)) {
    details.in = err.validationContext;
    details.validation = (err.validation as Array<{ instancePath?: string; message?: string }>)
      .map((v) => ({ path: v.instancePath ?? '', message: v.message ?? '' }));
  }
  if (status >= 400 && status < 500) return apiErrors.invalidRequest(message, details, status);
  if (status === 503) return new ApiError('service_unavailable', 503, message, details);
  return apiErrors.internal('internal error', details);
}
