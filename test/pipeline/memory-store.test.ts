// The in-memory batch store (queue.persistent: false): FIFO, byte-bounded, batches copied into reused chunks.
// Checked against a plain array model over a long random sequence of appends, reads and acks, so chunk reuse
// can never hand back bytes that a later batch overwrote.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DiskBudget, MemoryStore } from '../../src/pipeline/store.js';
import { pooledChunks, releasePooledChunks } from '../../src/pipeline/chunk-pool.js';

/** A batch whose every byte says which batch it is (and where), so any overwrite shows. */
function batch(id: number, size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (id * 31 + i) & 0xff;
  return b;
}

describe('in-memory batch store', () => {
  it('returns what was appended, in order, across chunk reuse and oversized batches', () => {
    const budget = new DiskBudget(1024 * 1024 * 1024);
    const store = new MemoryStore(budget);
    const model: Array<{ id: number; size: number; count: number }> = [];
    let seed = 12345;
    // An LCG's low bits cycle: take the high ones.
    const rnd = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 12) % n;
    let next = 0;
    // Bursts of appends and of acks, so the backlog spans several chunks, drains, and chunks get reused.
    for (let step = 0; step < 100; step++) {
      const appendBurst = rnd(2) === 0 || model.length === 0;
      for (let k = 1 + rnd(200); k > 0; k--) {
        if (appendBurst) {
          // Up to 100 KB (~80 per 4 MiB chunk); now and then one larger than a chunk.
          const size = rnd(150) === 0 ? 4 * 1024 * 1024 + rnd(1000) : 1 + rnd(100_000);
          const src = batch(next, size);
          assert.equal(store.append(src, 1 + (next % 7)), true);
          src.fill(0); // the payload is borrowed: the store must have copied it
          model.push({ id: next, size, count: 1 + (next % 7) });
          next++;
        } else if (model.length) {
          const head = store.peek()!;
          const want = model.shift()!;
          assert.equal(head.count, want.count);
          assert.ok(store.read(head).equals(batch(want.id, want.size)), `batch ${want.id} intact`);
          store.ack(head);
        }
      }
      assert.equal(store.pendingBatches(), model.length);
      assert.equal(store.pendingItems(), model.reduce((n, m) => n + m.count, 0));
      assert.equal(budget.used, model.reduce((n, m) => n + m.size, 0));
    }
    for (let b = store.peek(); b; b = store.peek()) {
      const want = model.shift()!;
      assert.ok(store.read(b).equals(batch(want.id, want.size)));
      store.ack(b);
    }
    assert.equal(budget.used, 0);
  });

  it('never reuses a chunk that still holds an unacknowledged batch', () => {
    const store = new MemoryStore(new DiskBudget(1 << 30));
    for (let i = 1; i <= 3; i++) store.append(batch(i, 1 << 20), 1);
    store.ack(store.peek()!);
    store.ack(store.peek()!);
    store.append(batch(9, 3.5 * (1 << 20)), 1); // fits in the chunk's free tail only if batch 3 were forgotten
    assert.ok(store.read(store.peek()!).equals(batch(3, 1 << 20)));
    store.ack(store.peek()!);
    assert.ok(store.read(store.peek()!).equals(batch(9, 3.5 * (1 << 20))));
  });

  it('an idle store keeps no slab: trim returns the emptied one, the idle lane then empties the pool', () => {
    releasePooledChunks();
    const store = new MemoryStore(new DiskBudget(1 << 30));
    store.append(batch(1, 1000), 1);
    store.trim(); // a batch is pending: its slab stays
    assert.equal(pooledChunks(), 0);
    store.ack(store.peek()!);
    store.trim();
    assert.equal(pooledChunks(), 1, 'the emptied slab went back to the pool');
    assert.equal(releasePooledChunks(), 1);
    assert.equal(pooledChunks(), 0);
    store.append(batch(2, 1000), 1); // and the store works on with a fresh slab
    assert.ok(store.read(store.peek()!).equals(batch(2, 1000)));
  });

  it('refuses what does not fit the byte cap and takes it again once acknowledged data frees room', () => {
    const budget = new DiskBudget(1000);
    const store = new MemoryStore(budget);
    assert.equal(store.append(batch(1, 600), 1), true);
    assert.equal(store.append(batch(2, 600), 1), false);
    store.ack(store.peek()!);
    assert.equal(store.append(batch(2, 600), 1), true);
    assert.ok(store.read(store.peek()!).equals(batch(2, 600)));
  });
});
