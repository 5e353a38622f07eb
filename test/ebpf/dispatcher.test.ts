// The ring-buffer dispatcher on hand-built frames: records reach the subscribers of their kind only, and
// malformed frames or headers are counted, never delivered, never thrown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RingbufDispatcher } from '../../src/ebpf/ringbuf-dispatcher.js';
import type { EventBatch } from '../../src/ebpf/core.js';

/** One framed record as the addon writes it: [u32 len][u32 0][record padded to 8]. */
function frame(kind: number, size: number, recordLen = size, headerSize = size): Buffer {
  const rec = Buffer.alloc(Math.max(16, (recordLen + 7) & ~7));
  rec.writeUInt32LE(kind, 0);
  rec.writeUInt32LE(headerSize, 4);
  rec.writeBigUInt64LE(123n, 8);
  const f = Buffer.alloc(8);
  f.writeUInt32LE(recordLen, 0);
  return Buffer.concat([f, rec.subarray(0, (recordLen + 7) & ~7)]);
}

test('records are grouped by kind and delivered to that kind only', () => {
  const d = new RingbufDispatcher();
  const got: Record<number, EventBatch[]> = { 1: [], 2: [] };
  d.subscribe(1, (b) => got[1]!.push(b));
  const un = d.subscribe(2, (b) => got[2]!.push(b));
  const n = d.dispatch(Buffer.concat([frame(1, 24), frame(2, 20), frame(1, 24), frame(9, 16)]));
  assert.equal(n, 4);
  assert.equal(got[1]!.length, 1);
  assert.equal(got[1]![0]!.offsets.length, 2);
  assert.equal(got[2]![0]!.offsets.length, 1);
  const b = got[1]![0]!;
  for (const o of b.offsets) assert.equal(b.buf.readUInt32LE(o), 1);
  assert.equal(d.counters.unclaimed, 1);
  un();
  d.dispatch(frame(2, 20));
  assert.equal(got[2]!.length, 1);
  assert.equal(d.counters.unclaimed, 2);
});

test('malformed frames and headers are counted, not delivered', () => {
  const d = new RingbufDispatcher();
  let delivered = 0;
  d.subscribe(1, (b) => { delivered += b.offsets.length; });
  const tooShort = frame(1, 8);
  const sizeTooBig = frame(1, 24, 24, 64);
  const truncated = frame(1, 32).subarray(0, 20);
  d.dispatch(Buffer.concat([tooShort, sizeTooBig, frame(1, 24)]));
  d.dispatch(truncated);
  d.dispatch(Buffer.alloc(3));
  assert.equal(delivered, 1);
  assert.equal(d.counters.malformed, 3);
  assert.equal(d.counters.received, 1);
});

test('a subscriber that throws does not stop the others', () => {
  const errors: unknown[] = [];
  const d = new RingbufDispatcher((_k, e) => errors.push(e));
  let ok = 0;
  d.subscribe(1, () => { throw new Error('boom'); });
  d.subscribe(1, (b) => { ok += b.offsets.length; });
  d.dispatch(frame(1, 16));
  assert.equal(ok, 1);
  assert.equal(errors.length, 1);
  assert.equal(d.counters.subscriberErrors, 1);
});
