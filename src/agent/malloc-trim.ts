// Periodic glibc malloc_trim. Node's ArrayBuffers (ring-buffer batches, export payloads) and libbpf live in the
// C heap; after a burst, glibc keeps the freed pages resident in its arenas (measured: ~25 MB handed back by one
// trim after 30k events/s of traced traffic). One trim costs about a millisecond, so every 10 s is cheap.
import { nativeAddon } from '../ebpf/native.js';

export const MALLOC_TRIM_INTERVAL_MS = 10_000;

/** Start trimming every `intervalMs`; returns the stop function (a no-op when the addon is not built). */
export function startMallocTrim(onTrim?: (ms: number) => void, intervalMs = MALLOC_TRIM_INTERVAL_MS): () => void {
  let trim: () => boolean;
  try {
    const addon = nativeAddon();
    trim = () => addon.mallocTrim();
  } catch {
    return () => undefined; // no addon: nothing to call malloc_trim with
  }
  const timer = setInterval(() => {
    const t0 = performance.now();
    trim();
    onTrim?.(performance.now() - t0);
  }, intervalMs).unref();
  return () => clearInterval(timer);
}
