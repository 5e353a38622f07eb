import type { Resource } from './attributes.js';

/** One CPU profile window, already encoded as pprof (the profiler of a later wave produces these). */
export interface Profile {
  startTimeUnixNano: bigint;
  durationNanos: bigint;
  pprof: Uint8Array;
  resource: Resource;
}
