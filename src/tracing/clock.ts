// BPF timestamps are bpf_ktime_get_ns() = CLOCK_MONOTONIC; process.hrtime.bigint() reads the same clock, so
// wall time = monotonic + (realtime - monotonic), an offset we measure (and refresh, since NTP slews realtime).

/** Measure realtime − monotonic in ns, taking the sample with the narrowest bracketing to bound the error. */
export function measureMonotonicOffset(samples = 5): bigint {
  let best: bigint | undefined;
  let bestWidth = BigInt(Number.MAX_SAFE_INTEGER);
  for (let i = 0; i < samples; i++) {
    const before = process.hrtime.bigint();
    const wallMs = Date.now();
    const after = process.hrtime.bigint();
    const width = after - before;
    if (width < bestWidth) {
      bestWidth = width;
      // Date.now() has ms resolution: centre it in its millisecond.
      best = BigInt(wallMs) * 1_000_000n + 500_000n - (before + width / 2n);
    }
  }
  return best!;
}

/** How old the measured offset may get before refresh() measures it again (NTP slews realtime slowly). */
export const OFFSET_REFRESH_MS = 60_000;

export class MonotonicClock {
  private offset = measureMonotonicOffset();
  private measuredAt = Date.now();

  /**
   * Convert a CLOCK_MONOTONIC ns timestamp to Unix epoch ns. Only an add: this runs twice per span, and a
   * re-measurement branch in here (taken once a minute) deoptimized the span path that inlines it every time.
   */
  toWall(monotonicNs: bigint): bigint {
    return monotonicNs + this.offset;
  }

  /**
   * Measure the offset again when it is older than OFFSET_REFRESH_MS (the owner calls this once per burst);
   * true when it did.
   */
  refresh(nowMs = Date.now()): boolean {
    if (nowMs - this.measuredAt <= OFFSET_REFRESH_MS) return false;
    this.offset = measureMonotonicOffset();
    this.measuredAt = nowMs;
    return true;
  }
}
