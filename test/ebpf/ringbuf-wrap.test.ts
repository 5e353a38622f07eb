// The addon's own ring-buffer consumer (native/src/ringbuf.c): records of odd sizes through a ring so small that
// many of them straddle its end arrive whole, byte for byte and in order, discarded records in between are
// skipped; and the data area is mapped once
// (page + data), not twice as libbpf's consumer maps it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { createEbpfCore, type EbpfSubsystem } from '../../src/ebpf/core.js';
import { bpfObjectPath } from '../../src/ebpf/paths.js';
import { bpfSkipReason, testContext, waitFor } from './helpers.js';

const skip = bpfSkipReason();
if (skip) console.log(`# skipping ring buffer wrap-around tests: ${skip}`);

/** Mirror of bpf/fixtures/wrap.bpf.c. */
const WRAP_KIND = 201;
const wrapLength = (seq: number): number => 24 + ((seq * 37) % 233);
const wrapByte = (seq: number, j: number): number => (seq * 31 + j) & 0xff;
const RING = 4096;

describe('ring buffer consumer: wrap-around', { skip }, () => {
  let core: EbpfSubsystem;
  // Nothing but the fixture writes into this core's ring, so record positions can be computed from the sizes.
  const ctx = testContext((c) => { c.agent.ebpf.ringbuf_size = RING; c.agent.ebpf.delivery_latency = '20ms'; });

  before(async () => {
    core = createEbpfCore(ctx, { builtinTracers: false, processEvents: false });
    await core.start();
  });
  after(async () => { await core?.stop(); });

  test('records of odd sizes straddling the end of a 4 KiB ring arrive complete, in order, every byte intact; discarded ones are skipped', async () => {
    const got: Array<{ seq: number; len: number; bad: number }> = [];
    const off = core.subscribe(WRAP_KIND, (b) => {
      for (const o of b.offsets) {
        const len = b.buf.readUInt32LE(o + 4); // header.size = the record's length
        const seq = b.buf.readUInt32LE(o + 16);
        let bad = 0;
        for (let j = 24; j < len; j++) if (b.buf[o + j] !== wrapByte(seq, j)) bad++;
        got.push({ seq, len, bad });
      }
    });
    const burst = 12; // at most 12 × 264 bytes: a burst always fits an empty 4 KiB ring
    const h = core.loadObject({ name: 'wrap', objectFile: bpfObjectPath('wrap'), rodata: { target_tgid: process.pid, burst }, attach: ['wrap_trigger'] });
    const rounds = 60;
    for (let r = 1; r <= rounds; r++) {
      os.getPriority();
      await waitFor(() => got.length === r * burst, 3000, `burst ${r}`);
    }
    h.close();
    off();

    assert.equal(core.status().ringbuf.events_lost, 0, 'nothing lost (positions below assume every record went in)');
    assert.equal(got.length, rounds * burst);
    let pos = 0;
    let straddled = 0;
    got.forEach((g, i) => {
      if (i % 7 === 3) pos += 48; // the discarded reservation before it (40 bytes + header), skipped by the consumer
      assert.equal(g.seq, i, 'in order, none missing');
      assert.equal(g.len, wrapLength(i));
      assert.equal(g.bad, 0, `record ${i}: ${g.bad} bytes differ`);
      const dataStart = (pos + 8) % RING;
      if (dataStart + g.len > RING) straddled++;
      pos += (g.len + 8 + 7) & ~7;
    });
    assert.ok(pos > 10 * RING, `the ring went round ${(pos / RING).toFixed(1)} times`);
    assert.ok(straddled >= 10, `${straddled} records straddled the end of the ring`);
    // Discarded records never reach the dispatcher: every record it saw was one of ours, none malformed or foreign.
    assert.equal(core.status().ringbuf.events_received, rounds * burst);
    const text = (await ctx.metrics.render()).body;
    assert.doesNotMatch(text, /telegen_ebpf_events_discarded_total\{reason="(malformed|unclaimed)"\} [1-9]/);
  });
});

describe('ring buffer consumer: memory', { skip }, () => {
  let core: EbpfSubsystem;
  const size = 1 << 20;
  const ctx = testContext((c) => { c.agent.ebpf.ringbuf_size = size; });

  before(async () => {
    core = createEbpfCore(ctx, { builtinTracers: false, processEvents: false });
    await core.start();
  });
  after(async () => { await core?.stop(); });

  test('the data area is mapped once: one read-only mapping of page + data, resident once', () => {
    const page = 4096;
    const maps = readFileSync('/proc/self/smaps', 'utf8').split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/)
      .filter((m) => m.slice(0, m.indexOf('\n')).includes('bpf-map'))
      .map((m) => {
        const [range] = m.split(' ');
        const [a, b] = range!.split('-').map((x) => parseInt(x, 16));
        return { bytes: b! - a!, rssKb: Number(/^Rss:\s+(\d+) kB/m.exec(m)?.[1]) };
      });
    assert.ok(maps.some((m) => m.bytes === page + size), `a mapping of page + ${size} bytes (${JSON.stringify(maps.map((m) => m.bytes))})`);
    assert.ok(!maps.some((m) => m.bytes >= 2 * size), 'no mapping of twice the data area');
    const ring = maps.find((m) => m.bytes === page + size)!;
    assert.ok(ring.rssKb * 1024 <= page + size, `resident ${ring.rssKb} kB`);
  });
});
