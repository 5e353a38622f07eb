// The retry layer: exponential backoff with jitter for retryable outcomes, the server's delay for throttled
// ones, no retry for permanent ones. It retries until delivery (the persistent queue holds the data meanwhile)
// or until aborted by stop/reload.
import type { ExportOutcome } from '../export/outcome.js';

export interface RetryPolicy { initialMs: number; maxMs: number; multiplier: number }

/** Longest server-requested delay honoured (a misbehaving server cannot park the queue for hours). */
const MAX_THROTTLE_MS = 5 * 60_000;

export function backoffDelay(p: RetryPolicy, attempt: number, random = Math.random): number {
  const base = Math.min(p.maxMs, p.initialMs * p.multiplier ** attempt);
  return Math.round(base * (0.5 + random() * 0.5));
}

/**
 * Call `attempt` until it is not retryable; `onFailure` sees every failed attempt (metrics, status).
 * Returns the final outcome, or null when aborted while waiting.
 */
export async function withRetry(
  attempt: () => Promise<ExportOutcome>,
  policy: RetryPolicy,
  abort: AbortSignal,
  onFailure: (o: ExportOutcome, delayMs: number) => void,
): Promise<ExportOutcome | null> {
  for (let n = 0; ; n++) {
    if (abort.aborted) return null;
    const o = await attempt();
    if (o.kind === 'ok' || o.kind === 'permanent') return o;
    const delay = o.kind === 'throttled'
      ? Math.min(MAX_THROTTLE_MS, Math.max(o.retryAfterMs ?? 0, 1))
      : backoffDelay(policy, n);
    onFailure(o, delay);
    if (!(await sleep(delay, abort))) return null;
  }
}

function sleep(ms: number, abort: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (abort.aborted) return resolve(false);
    const t = setTimeout(() => {
      abort.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      resolve(false);
    };
    abort.addEventListener('abort', onAbort, { once: true });
  });
}
