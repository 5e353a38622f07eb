// Nothing stays in the kernel: load/attach/detach/close cycles and a core stop leave none of this test's
// programs or maps behind (checked with bpftool by id — other tests load programs concurrently). A program
// the verifier refuses yields `failed: <reason>` with the verifier excerpt, and the core keeps serving.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { BpfLoadError, createEbpfCore, EventKind, type EbpfSubsystem } from '../../src/ebpf/core.js';
import { bpfObjectPath } from '../../src/ebpf/paths.js';
import { bpfSkipReason, sleep, testContext, waitFor } from './helpers.js';
import { loadFlood } from './flood.js';

const skip = bpfSkipReason();
if (skip) console.log(`# skipping lifecycle tests: ${skip}`);

/** The map ids of a program, or null when the kernel has no program with that id. */
function progMaps(id: number): number[] | null {
  try {
    const j = JSON.parse(execFileSync('bpftool', ['prog', 'show', 'id', String(id), '-j'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString()) as { map_ids?: number[] };
    return j.map_ids ?? [];
  } catch {
    return null;
  }
}
function mapExists(id: number): boolean {
  try {
    execFileSync('bpftool', ['map', 'show', 'id', String(id)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
/** Every kernel id (programs and their maps) the core has loaded right now. */
function kernelIds(core: EbpfSubsystem): { progs: number[]; maps: number[] } {
  const progs = core.status().programs.map((p) => p.id);
  const maps = new Set<number>();
  for (const id of progs) for (const m of progMaps(id) ?? []) maps.add(m);
  return { progs, maps: [...maps] };
}
async function assertGone(ids: { progs: number[]; maps: number[] }): Promise<void> {
  // The kernel frees programs and maps shortly after the last reference (deferred work): poll briefly.
  await waitFor(() => ids.progs.every((id) => progMaps(id) === null) && ids.maps.every((id) => !mapExists(id)), 5000,
    `programs ${ids.progs} and maps ${ids.maps} to leave the kernel`);
}

describe('load/attach/detach lifecycle', { skip }, () => {
  const cores: EbpfSubsystem[] = [];
  after(async () => { for (const c of cores) await c.stop(); });

  test('cycles and stop leave no program or map behind', async () => {
    const core = createEbpfCore(testContext((c) => { c.agent.ebpf.delivery_latency = '20ms'; }));
    cores.push(core);
    await core.start();
    const all = kernelIds(core);
    assert.ok(all.progs.length >= 8, `core + tcp programs loaded (${all.progs.length})`);
    assert.ok(all.progs.every((id) => id > 0));
    assert.ok(core.status().programs.find((p) => p.name === 'trace_tcp_connect' && p.type === 'tracepoint' && p.attached));

    // Counted from the start: each cycle submits one event (the getpriority while attached), the last object three.
    let seen = 0;
    const off = core.subscribe(EventKind.TEST_FLOOD, (b) => { seen += b.offsets.length; });
    for (let i = 0; i < 3; i++) {
      const flood = loadFlood(core, 'cycle', process.pid, 1);
      const progs = flood.handle.programs();
      assert.deepEqual(progs.map((p) => [p.name, p.attached]), [['flood_trigger', true]]);
      flood.handle.detach('flood_trigger');
      assert.equal(flood.handle.programs()[0]!.attached, false);
      os.getPriority();
      flood.handle.attach('flood_trigger');
      os.getPriority();
      const ids = { progs: progs.map((p) => p.id), maps: flood.handle.maps().map((m) => m.id) };
      assert.ok(ids.maps.length > 0);
      // The object's maps reuse the core's ring buffer: it is not one of its own.
      assert.ok(!flood.handle.maps().some((m) => m.name === 'tg_events'));
      flood.handle.close();
      flood.handle.close(); // idempotent
      assert.ok(!core.status().programs.some((p) => p.name === 'flood_trigger'));
      await assertGone(ids);
    }
    // Shared maps still there after the tracers' objects closed: the core still delivers.
    const flood = loadFlood(core, 'after', process.pid, 3);
    os.getPriority();
    await waitFor(() => seen === 6, 3000, 'events of the cycles and after them');
    await sleep(100);
    assert.equal(seen, 6, 'none twice, none from the detached moments');
    off();
    // flood stays loaded: stop() must close it too.
    const everything = { progs: [...all.progs, ...flood.handle.programs().map((p) => p.id)], maps: [...all.maps, ...flood.handle.maps().map((m) => m.id)] };
    await core.stop();
    await core.stop(); // idempotent
    assert.equal(core.health(), 'disabled');
    assert.deepEqual(core.status().programs, []);
    await assertGone(everything);
  });

  test('a background detach: detached at once, gone from the kernel when it settles, attachable again', async () => {
    const core = createEbpfCore(testContext((c) => { c.agent.ebpf.delivery_latency = '20ms'; }));
    cores.push(core);
    await core.start();
    let seen = 0;
    const off = core.subscribe(EventKind.TEST_FLOOD, (b) => { seen += b.offsets.length; });
    const flood = loadFlood(core, 'background', process.pid, 1);
    const detached = flood.handle.detachInBackground(['flood_trigger']);
    assert.equal(flood.handle.programs()[0]!.attached, false, 'detached as soon as asked');
    await detached;
    os.getPriority(); // after the kernel let go: not seen
    flood.handle.attach('flood_trigger');
    os.getPriority(); // seen once
    await waitFor(() => seen >= 1, 3000, 'the event after attaching again');
    await sleep(100);
    assert.equal(seen, 1, 'none from the detached program, none twice');
    await flood.handle.detachInBackground(['flood_trigger', 'no_such_program']); // unknown or detached: nothing to do
    await flood.handle.detachInBackground(['flood_trigger']);
    off();
    flood.handle.close();
  });

  test('reload switches the TCP tracer off and on without a restart', async () => {
    const ctx = testContext();
    const core = createEbpfCore(ctx);
    cores.push(core);
    await core.start();
    const tcpIds = () => core.status().programs.filter((p) => p.name.startsWith('trace_tcp')).map((p) => p.id);
    const before = tcpIds();
    assert.equal(before.length, 6);
    const off = structuredClone(ctx.config);
    off.agent.ebpf.network.enabled = false;
    await core.reload(off);
    assert.deepEqual(tcpIds(), []);
    assert.ok(core.status().programs.some((p) => p.name === 'trace_process_exec'), 'core programs stay');
    await assertGone({ progs: before, maps: [] });
    const on = structuredClone(off);
    on.agent.ebpf.network.enabled = true;
    await core.reload(on);
    assert.equal(tcpIds().length, 6);
    assert.equal(core.health(), 'ok');
    const disabled = structuredClone(on);
    disabled.agent.ebpf.enabled = false;
    const ids = kernelIds(core);
    await core.reload(disabled);
    assert.equal(core.health(), 'disabled');
    assert.equal(core.status().enabled, false);
    await assertGone(ids);
  });

  test('a program the verifier refuses: failed with the verifier excerpt, and the core keeps serving', async () => {
    const core = createEbpfCore(testContext(), { builtinTracers: false });
    cores.push(core);
    await core.start();
    assert.throws(
      () => core.loadObject({ name: 'bad', objectFile: bpfObjectPath('bad_verifier'), attach: ['bad_program'] }),
      (e: unknown) => {
        assert.ok(e instanceof BpfLoadError);
        assert.equal(e.step, 'load');
        assert.match(e.verifierLog, /invalid mem access|map_value_or_null/);
        return true;
      },
    );
    const h = core.health();
    assert.match(h, /^failed: bad: load: .*(invalid mem access|map_value_or_null)/);
    assert.ok(!core.status().programs.some((p) => p.name === 'bad_program'));
    // Still serving: another object loads and delivers.
    let seen = 0;
    core.subscribe(EventKind.TEST_FLOOD, (b) => { seen += b.offsets.length; });
    loadFlood(core, 'good', process.pid, 2);
    os.getPriority();
    await waitFor(() => seen === 2, 3000, 'events after a failed load');
    assert.equal(core.running(), true);
    await sleep(10);
  });

  test('required eBPF that cannot start fails with exit code 3', async () => {
    const ctx = testContext((c) => { c.agent.ebpf.required = true; });
    const core = createEbpfCore(ctx, { builtinTracers: false, coreObjectFile: '/nonexistent/core.bpf.o' });
    cores.push(core);
    assert.equal(core.required?.(), true);
    await assert.rejects(core.start(), (e: Error & { exitCode?: number }) => {
      assert.equal(e.exitCode, 3);
      assert.match(e.message, /^eBPF: open: \/nonexistent\/core.bpf.o/);
      return true;
    });
    assert.match(core.health(), /^failed: /);
    assert.equal(core.running(), false);
  });
});
