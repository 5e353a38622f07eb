// Per-CPU counter values summed over CPUs, and counters fed from such running totals.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { sumPerCpu } from '../../src/ebpf/per-cpu.js';
import { CounterFromTotal } from '../../src/telemetry/self-metrics.js';

it('sums every field over the CPUs of a per-CPU value', () => {
  const v = Buffer.alloc(3 * 2 * 8); // 3 CPUs × 2 fields
  for (let cpu = 0; cpu < 3; cpu++) {
    v.writeBigUInt64LE(BigInt(cpu + 1), cpu * 16);
    v.writeBigUInt64LE(BigInt(10 * (cpu + 1)), cpu * 16 + 8);
  }
  assert.deepEqual(sumPerCpu(v, 2), [6, 60]);
  assert.deepEqual(sumPerCpu(v.subarray(0, 24)), [1 + 10 + 2]);
  assert.deepEqual(sumPerCpu(null, 2), [0, 0]);
});

it('a counter fed from a running total adds the growth only, and starts over on reset', () => {
  const added: number[] = [];
  const c = new CounterFromTotal((n) => added.push(n), 5);
  c.update(5);
  c.update(8);
  c.update(3); // the source went back (reset elsewhere): nothing added
  c.update(4);
  c.reset();
  c.update(2);
  assert.deepEqual(added, [3, 1, 2]);
  assert.equal(c.value, 2);
});
