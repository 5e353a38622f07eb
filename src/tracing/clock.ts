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

export class MonotonicClock {
  private offset = measureMonotonicOffset();
  private measuredAt = Date.now();

  /** Convert a CLOCK_MONOTONIC ns timestamp to Unix epoch ns. */
  toWall(monotonicNs: bigint): bigint {
    if (Date.now() - this.measuredAt > 60_000) {
      this.offset = measureMonotonicOffset();
      this.measuredAt = Date.now();
    }
    return monotonicNs + this.offset;
  }
}
