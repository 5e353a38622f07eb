// The shared ring buffer under a flood: a tiny buffer loses events, the BPF-side counter reports them, and
// what the registry received plus what BPF counted as lost equals every submit BPF attempted.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { createEbpfCore, EventKind, type EbpfSubsystem } from '../../src/ebpf/core.js';
import { bpfSkipReason, sleep, testContext, waitFor } from './helpers.js';
import { decodeFloodEvent, loadFlood } from './flood.js';

const skip = bpfSkipReason();
if (skip) console.log(`# skipping ring buffer tests: ${skip}`);

describe('shared ring buffer', { skip }, () => {
  let core: EbpfSubsystem;
  const ctx = testContext((c) => { c.agent.ebpf.ringbuf_size = 8192; });

  before(async () => {
    // Nothing but the flood fixture writes into this core's ring: counts must add up exactly.
    core = createEbpfCore(ctx, { builtinTracers: false, processEvents: false });
    await core.start();
  });
  after(async () => { await core?.stop(); });

  test('a tiny ring buffer under a flood: events_lost > 0 and received + lost = attempted', async () => {
    let received = 0;
    let badPid = 0;
    const off = core.subscribe(EventKind.TEST_FLOOD, (b) => {
      for (const o of b.offsets) { if (decodeFloodEvent(b.buf, o).pid !== process.pid) badPid++; received++; }
    });
    const flood = loadFlood(core, 'flood', process.pid, 4096);
    for (let i = 0; i < 20; i++) os.getPriority(); // 20 × 4096 events into an 8 KiB ring: most cannot fit
    await waitFor(() => core.status().ringbuf.events_received + core.status().ringbuf.events_lost >= flood.attempts(), 5000, 'delivery');
    await sleep(100);
    const st = core.status().ringbuf;
    assert.equal(st.size, 8192);
    assert.equal(flood.attempts(), 20 * 4096);
    assert.ok(st.events_lost > 0, 'events were lost');
    assert.ok(received > 0, 'some were delivered');
    assert.equal(st.events_received, received);
    assert.equal(st.events_received + st.events_lost, flood.attempts());
    assert.equal(badPid, 0);

    // Self-metrics follow the BPF counter.
    const lostText = await ctx.metrics.render();
    assert.match(lostText.body, new RegExp(`telegen_ebpf_ringbuf_lost_total ${st.events_lost}\\b`));
    assert.match(lostText.body, new RegExp(`telegen_ebpf_ringbuf_events_total ${st.events_received}\\b`));
    flood.handle.close();
    off();
  });

  test('an idle ring backs off (its poll thread wakes ≤ 10 times a second, not 50) and still delivers the next event at once', async () => {
    const threads = readdirSync('/proc/self/task').filter((t) => readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim() === 'tg-ringbuf');
    assert.equal(threads.length, 1, 'one named poll thread');
    const switches = (): number => Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(readFileSync(`/proc/self/task/${threads[0]}/status`, 'utf8'))?.[1]);
    await sleep(500); // whatever the previous test left has been consumed: the back-off is under way
    const before = switches();
    await sleep(2000);
    const wakeups = switches() - before;
    assert.ok(wakeups <= 20, `${wakeups} wake-ups in 2 s (a fixed 20 ms timer makes ~100)`);
    let received = 0;
    const off = core.subscribe(EventKind.TEST_FLOOD, (b) => { received += b.offsets.length; });
    const flood = loadFlood(core, 'flood-idle', process.pid, 1);
    const t0 = Date.now();
    os.getPriority();
    await waitFor(() => received === 1, 2000, 'the event after idling');
    assert.ok(Date.now() - t0 < 450, `delivered ${Date.now() - t0} ms after submit (backed-off timer ≤ 200 ms)`);
    flood.handle.close();
    off();
  });

  test('after a flood the ring drains: a paced burst arrives complete', async () => {
    let received = 0;
    const off = core.subscribe(EventKind.TEST_FLOOD, (b) => { received += b.offsets.length; });
    const before = core.status().ringbuf.events_lost;
    const flood = loadFlood(core, 'flood-paced', process.pid, 50); // 50 × 64 bytes fit in the ring
    for (let i = 0; i < 10; i++) { os.getPriority(); await sleep(30); }
    await waitFor(() => received === 500, 3000, '500 events');
    assert.equal(core.status().ringbuf.events_lost, before);
    flood.handle.close();
    off();
  });
});
