// CLOCK_MONOTONIC → wall time for span timestamps: the conversion is a plain add, re-measured at most once a minute.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MonotonicClock, OFFSET_REFRESH_MS } from '../../src/tracing/clock.js';

describe('MonotonicClock', () => {
  it('converts the monotonic clock to wall time within a few ms', () => {
    const clock = new MonotonicClock();
    const wallNs = clock.toWall(process.hrtime.bigint());
    const diffMs = Math.abs(Number(wallNs / 1_000_000n) - Date.now());
    assert.ok(diffMs <= 5, `off by ${diffMs} ms`);
  });

  it('re-measures the offset only once it is older than the refresh interval', () => {
    const clock = new MonotonicClock();
    const now = Date.now();
    assert.equal(clock.refresh(now), false);
    assert.equal(clock.refresh(now + OFFSET_REFRESH_MS - 1000), false);
    const before = clock.toWall(0n);
    assert.equal(clock.refresh(now + OFFSET_REFRESH_MS + 1000), true);
    // Same clocks, measured again: the offset moves by well under a millisecond (slew, measurement noise).
    const movedNs = clock.toWall(0n) - before;
    assert.ok(movedNs < 1_000_000n && movedNs > -1_000_000n, `moved ${movedNs} ns`);
    // The interval starts again from the re-measurement.
    assert.equal(clock.refresh(now + OFFSET_REFRESH_MS + 2000), false);
  });
});
