import assert from 'node:assert/strict';
import { appendFileSync, readdirSync, statSync, truncateSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CURSOR_DELAY_MS, readAckCursor, SegmentLog } from '../../src/pipeline/segment-log.js';
import { DiskBudget } from '../../src/pipeline/store.js';
import { tmp } from '../export/helpers/fixtures.js';

const payload = (n: number, size = 100) => Buffer.alloc(size, n & 0xff);
const segs = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.seg')).sort();

function drainAll(log: SegmentLog): number[] {
  const out: number[] = [];
  for (let b = log.peek(); b; b = log.peek()) {
    out.push(log.read(b)[0]!);
    log.ack(b);
  }
  return out;
}

describe('persistent segment log', () => {
  it('survives a reopen: unacknowledged batches come back in order, acknowledged ones do not', () => {
    const dir = tmp('seglog');
    const log = new SegmentLog(dir, new DiskBudget(1 << 30), 1000);
    for (let i = 0; i < 30; i++) assert.equal(log.append(payload(i), 2), true);
    for (let i = 0; i < 10; i++) log.ack(log.peek()!);
    log.close();
    const again = new SegmentLog(dir, new DiskBudget(1 << 30), 1000);
    assert.equal(again.pendingBatches(), 20);
    assert.equal(again.pendingItems(), 40);
    assert.deepEqual(drainAll(again), Array.from({ length: 20 }, (_, i) => i + 10));
    assert.deepEqual(segs(dir).length <= 1, true, 'acknowledged segments deleted');
  });

  it('truncates a torn tail and counts it, keeping every complete record', () => {
    const dir = tmp('seglog');
    const log = new SegmentLog(dir, new DiskBudget(1 << 30));
    for (let i = 0; i < 5; i++) log.append(payload(i), 1);
    log.close();
    const file = join(dir, segs(dir)[0]!);
    const good = statSync(file).size;
    appendFileSync(file, Buffer.from([0x47, 0x54, 0x51, 0x31, 0xff, 0xff])); // half a header
    const again = new SegmentLog(dir, new DiskBudget(1 << 30));
    assert.equal(again.recovery.corruptRecords, 1);
    assert.equal(again.recovery.truncatedBytes, 6);
    assert.equal(statSync(file).size, good);
    assert.deepEqual(drainAll(again), [0, 1, 2, 3, 4]);
  });

  it('truncates at a checksum mismatch (bit rot in the middle of the last records)', () => {
    const dir = tmp('seglog');
    const log = new SegmentLog(dir, new DiskBudget(1 << 30));
    for (let i = 0; i < 5; i++) log.append(payload(i), 1);
    log.close();
    const file = join(dir, segs(dir)[0]!);
    const bytes = readFileSync(file);
    bytes[3 * 120 + 20 + 50] ^= 0xff; // inside record #3's payload (20-byte header + 100-byte payload each)
    writeFileSync(file, bytes);
    const again = new SegmentLog(dir, new DiskBudget(1 << 30));
    assert.equal(again.recovery.corruptRecords, 1);
    assert.deepEqual(drainAll(again), [0, 1, 2]);
    // And it keeps working: new appends after recovery are readable after another reopen.
    again.append(payload(9), 1);
    again.close();
    assert.deepEqual(drainAll(new SegmentLog(dir, new DiskBudget(1 << 30))), [9]);
  });

  it('a file of garbage is truncated, never a crash', () => {
    const dir = tmp('seglog');
    writeFileSync(join(dir, '000000000001.seg'), Buffer.alloc(5000, 0x5a));
    const log = new SegmentLog(dir, new DiskBudget(1 << 30));
    assert.equal(log.pendingBatches(), 0);
    assert.equal(log.recovery.truncatedBytes, 5000);
    assert.equal(log.append(payload(1), 1), true);
    log.close(); // gives its in-memory slab back (the slab cap is process-wide)
  });

  it('enforces the byte cap (new batches refused) and frees space as batches are acknowledged', () => {
    const dir = tmp('seglog');
    const budget = new DiskBudget(1200);
    const log = new SegmentLog(dir, budget, 500);
    let accepted = 0;
    for (let i = 0; i < 20; i++) if (log.append(payload(i), 1)) accepted++;
    assert.equal(accepted, 10); // 10 × 120 bytes
    assert.equal(log.append(payload(99), 1), false);
    const onDisk = segs(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
    assert.ok(onDisk <= 1200, `on disk ${onDisk}`);
    for (let i = 0; i < 5; i++) log.ack(log.peek()!);
    assert.equal(log.append(payload(50), 1), true, 'space freed by acknowledged segments');
    log.close();
  });

  it('a half-written cursor file is ignored (everything re-sent: duplicates, not loss)', () => {
    const dir = tmp('seglog');
    const log = new SegmentLog(dir, new DiskBudget(1 << 30));
    for (let i = 0; i < 3; i++) log.append(payload(i), 1);
    log.ack(log.peek()!);
    log.close();
    writeFileSync(join(dir, 'ack'), 'garbage');
    assert.deepEqual(drainAll(new SegmentLog(dir, new DiskBudget(1 << 30))), [0, 1, 2]);
    truncateSync(join(dir, 'ack'), 0);
  });
  it('keeps whether a batch is gzip-compressed across a reopen', () => {
    const dir = tmp('seglog-gzip');
    const log = new SegmentLog(dir, new DiskBudget(1 << 30), 1000);
    for (let i = 0; i < 6; i++) assert.equal(log.append(payload(i), 1, 1, i % 2 === 1), true);
    log.close();
    const again = new SegmentLog(dir, new DiskBudget(1 << 30), 1000);
    const flags: boolean[] = [];
    for (let b = again.peek(); b; b = again.peek()) {
      flags.push(b.gzip);
      again.ack(b);
    }
    assert.deepEqual(flags, [false, true, false, true, false, true]);
  });

  it('sends appended batches from memory, reads back only what it did not keep (recovered after a reopen)', () => {
    const dir = tmp('seglog-mem');
    const log = new SegmentLog(dir, new DiskBudget(1 << 30), 1000);
    const src = payload(1);
    log.append(src, 1);
    src.fill(9); // the encoder reuses its buffer: the log must not depend on it after append returns
    log.append(payload(2), 1);
    assert.deepEqual(drainAll(log), [1, 2]);
    assert.deepEqual(log.memory, { kept: 2, readBack: 0 });
    for (let i = 3; i < 6; i++) log.append(payload(i), 1);
    log.close();
    const again = new SegmentLog(dir, new DiskBudget(1 << 30), 1000);
    again.append(payload(6), 1);
    assert.deepEqual(drainAll(again), [3, 4, 5, 6]);
    assert.deepEqual(again.memory, { kept: 1, readBack: 3 }, 'the recovered batches come from the file, the new one from memory');
    again.close();
  });

  it('keeps at most 32 MiB of copies: a backlog beyond that is read back from the file, in order, byte for byte', () => {
    const dir = tmp('seglog-cap');
    const log = new SegmentLog(dir, new DiskBudget(1 << 30), 16 * 1024 * 1024);
    const big = 3 * 1024 * 1024; // one per 4 MiB slab
    for (let i = 0; i < 12; i++) assert.equal(log.append(payload(i, big), 1), true);
    assert.deepEqual(log.memory, { kept: 8, readBack: 0 });
    const seen: number[] = [];
    for (let b = log.peek(); b; b = log.peek()) {
      const bytes = log.read(b);
      assert.equal(bytes.length, big);
      assert.ok(bytes.every((x) => x === bytes[0]));
      seen.push(bytes[0]!);
      log.ack(b);
      // Acknowledging frees slabs: a batch appended now is kept again.
      if (seen.length === 2) log.append(payload(12, big), 1);
    }
    assert.deepEqual(seen, Array.from({ length: 13 }, (_, i) => i));
    assert.deepEqual(log.memory, { kept: 9, readBack: 4 });
    log.close();
  });

  it('coalesces cursor writes: written within CURSOR_DELAY_MS of an ack, and at close', async () => {
    const dir = tmp('seglog-cursor');
    const log = new SegmentLog(dir, new DiskBudget(1 << 30));
    for (let i = 0; i < 4; i++) log.append(payload(i), 1);
    log.ack(log.peek()!);
    log.ack(log.peek()!);
    assert.deepEqual(readAckCursor(dir), { seg: 0, offset: 0 }, 'not yet written');
    await new Promise((r) => setTimeout(r, CURSOR_DELAY_MS * 3));
    assert.deepEqual(readAckCursor(dir).offset, 2 * 120, 'written once the delay passed');
    log.ack(log.peek()!);
    log.close();
    assert.deepEqual(readAckCursor(dir).offset, 3 * 120, 'written at close');
    assert.deepEqual(drainAll(new SegmentLog(dir, new DiskBudget(1 << 30))), [3]);
  });

  it('a crash before the delayed cursor write replays acknowledged batches (duplicates) and loses none', () => {
    const dir = tmp('seglog-crash');
    const log = new SegmentLog(dir, new DiskBudget(1 << 30), 1000); // 8 records of 120 B per segment
    for (let i = 0; i < 30; i++) log.append(payload(i), 1);
    for (let i = 0; i < 20; i++) log.ack(log.peek()!); // two segments finished and deleted, cursor not yet written
    assert.ok(segs(dir).length < 4, 'finished segments are deleted at once');
    // "Crash": no close(), no cursor write; another process opens the directory.
    const again = new SegmentLog(dir, new DiskBudget(1 << 30), 1000);
    const replayed = drainAll(again);
    again.close();
    const firstUnacked = replayed.indexOf(20);
    assert.ok(firstUnacked >= 0, `batch 20 is back (${replayed.join(',')})`);
    assert.deepEqual(replayed.slice(firstUnacked), Array.from({ length: 10 }, (_, i) => i + 20), 'every unacknowledged batch, in order');
    const dups = replayed.slice(0, firstUnacked);
    assert.deepEqual(dups, [...dups].sort((a, b) => a - b), 'duplicates come first, in order');
    assert.ok(dups.every((d) => d >= 16 && d < 20), `only acknowledged batches of the segment still on disk are repeated (${dups.join(',')})`);
  });
});

