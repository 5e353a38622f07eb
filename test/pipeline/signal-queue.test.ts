import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SignalQueue } from '../../src/pipeline/signal-queue.js';

// Items are numbers; an item's estimated size is its value (so byte accounting can be checked exactly).
const queue = (capacity: number, maxBytes: number) => new SignalQueue<number>(capacity, maxBytes, (n) => n);
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

describe('in-memory signal queue', () => {
  it('keeps order across offers and takes that do not line up, and ends with an exact byte count', () => {
    const q = queue(1000, 1e9);
    let next = 1;
    const seen: number[] = [];
    const sizes = [7, 3, 12, 1, 5, 9];
    for (let round = 0; round < 30; round++) {
      const n = sizes[round % sizes.length]!;
      assert.equal(q.offer(range(next, n)), n);
      next += n;
      if (round % 2 === 1) seen.push(...q.take(4 + (round % 5)));
    }
    while (q.length) seen.push(...q.take(6));
    assert.deepEqual(seen, range(1, next - 1));
    // Everything taken: the byte estimate is back to exactly zero, so a full budget is available again.
    const budget = queue(1000, 100);
    budget.offer([60]);
    budget.offer([30, 5]);
    budget.take(2); // 60 and 30 leave (the 30-run apportioned), 5 stays
    assert.equal(budget.offer([90, 10]), 1, 'room for 90 next to the 5 (95 ≤ 100), not for 10 more');
    budget.take(10);
    assert.equal(budget.offer([100]), 1, 'empty again: the whole budget');
  });

  it('bounds by count and by bytes, accepting a prefix; an empty queue takes one item whatever its size', () => {
    const q = queue(5, 100);
    assert.equal(q.offer([10, 10, 10]), 3);
    assert.equal(q.offer([10, 10, 10]), 2, 'count cap 5');
    assert.equal(q.length, 5);
    assert.deepEqual(q.take(5), [10, 10, 10, 10, 10]);
    assert.equal(q.offer([60, 30, 20]), 2, 'bytes: 60 + 30 fit, 20 more would not');
    q.take(10);
    const big = queue(5, 100);
    assert.equal(big.offer([500, 1]), 1, 'an oversized item alone is accepted, nothing after it');
    assert.equal(big.offer([1]), 0);
  });

  it('hands over an offered run as it is when a take lines up with it, and never gives out an array it still uses', () => {
    const q = queue(10_000, 1e9);
    const src = range(0, 512);
    q.offer(src);
    q.offer(range(512, 512));
    src[0] = -1; // the caller reuses its array: the queue kept a copy
    const a = q.take(512);
    assert.equal(a[0], 0);
    assert.deepEqual(a, range(0, 512));
    a[1] = -1; // the taker owns what it got
    assert.deepEqual(q.take(512), range(512, 512));
    assert.equal(q.length, 0);
  });
});
