// The encoder's reused buffer: it grows to a huge batch, encodes correctly at every size afterwards, and is
// given back (busy: after a window of small messages; idle: after two idle looks) so one huge batch does not pin
// megabytes for the agent's lifetime.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeBorrowed, encoderCapacity, trimEncoder } from '../../src/export/proto/encode-otlp.js';
import type { Span } from '../../src/model/span.js';
import { seqsOf, span } from './helpers/fixtures.js';
import { decodeRequest } from './helpers/otlp-decoder.js';

const padded = (n: number, pad: number): Span => ({ ...span(n), attributes: { ...span(n).attributes, pad: 'x'.repeat(pad) } });
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

function roundTrip(spans: Span[]): number[] {
  return seqsOf([decodeRequest('traces', encodeBorrowed('traces', spans))]);
}

describe('encoder scratch buffer', () => {
  it('grows for a huge batch, stays exact at every size, shrinks after a window of small batches', () => {
    const giant = range(0, 100).map((n) => padded(n, 20_000)); // ~2 MB
    assert.deepEqual(roundTrip(giant), range(0, 100));
    const grown = encoderCapacity();
    assert.ok(grown >= 2 * 1024 * 1024, `grown to ${grown}`);
    for (let k = 0; k < 140; k++) { // the look after 64–128 small messages
      const batch = range(1000 + k * 10, 1 + (k % 10)).map((n) => padded(n, k * 7));
      assert.deepEqual(roundTrip(batch), batch.map((s) => s.attributes.seq));
    }
    assert.ok(encoderCapacity() <= 1024 * 1024, `shrunk to ${encoderCapacity()} after small batches`);
    // And it grows again when needed, exactly.
    assert.deepEqual(roundTrip(giant), range(0, 100));
  });

  it('idle: kept while batches that need it come, given back after two idle looks', () => {
    const giant = range(0, 100).map((n) => padded(n, 20_000));
    roundTrip(giant);
    trimEncoder(); // a big message since the last look: kept
    assert.ok(encoderCapacity() >= 2 * 1024 * 1024);
    trimEncoder(); // nothing encoded since: given back
    assert.equal(encoderCapacity(), 64 * 1024);
    assert.deepEqual(roundTrip(giant.slice(0, 5)), range(0, 5));
  });
});
