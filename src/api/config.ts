import { Bool, Int, Secret, Section, Str, StrList } from '../config/types.js';

/** `self_telemetry`: the control API (health, readiness, /metrics, /status, admin, debug). */
export const selfTelemetrySchema = Section({
  listen: Str(':19090', 'Address of the control API, host:port (":19090" listens on every interface).'),
  auth: Section({
    enabled: Bool(false, 'Require `Authorization: Bearer <token>` on the API.'),
    bearer_token: Secret('The bearer token (usually "${API_TOKEN}").'),
    exempt_paths: StrList(['/healthz', '/ready'], 'Paths served without a token (probes). Admin and debug paths are never exempt.'),
  }, 'Bearer-token authentication.'),
  rate_limit: Section({
    enabled: Bool(false, 'Rate-limit API clients with a token bucket.'),
    requests_per_second: Int(100, 'Sustained requests per second per client address (the bucket holds one second of it).', 1),
  }, 'Per-client rate limiting.'),
  cors: Section({
    enabled: Bool(false, 'Answer CORS requests.'),
    allowed_origins: StrList([], 'Origins that receive CORS headers.'),
  }, 'Cross-origin browser access.'),
  debug: Section({
    enabled: Bool(false, 'Serve /debug/pprof/* and /debug/vars.'),
  }, 'Debug endpoints.'),
}, 'The control API.');
