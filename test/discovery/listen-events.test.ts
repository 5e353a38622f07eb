// Event-driven discovery with the real eBPF core: while the core's exec/exit/listen programs run, the periodic
// rescan stays on its long interval even on a quiet host, an exec'd process is read once (no second read 2 s
// later looking for ports), and a listener opened long after exec is found through the kernel's LISTEN
// transition (sock:inet_sock_set_state) — not by a rescan.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createEbpfCore, type EbpfSubsystem } from '../../src/ebpf/core.js';
import { createDiscovery } from '../../src/discovery/discovery.js';
import { bpfSkipReason, testContext as ebpfContext } from '../ebpf/helpers.js';
import { testContext } from './helpers.js';

const skip = bpfSkipReason();
if (skip) console.log(`# skipping listen-event discovery test: ${skip}`);

const children: ChildProcess[] = [];
let core: EbpfSubsystem | undefined;
after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await core?.stop();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('with eBPF process events: rescans on the long interval, and a late listener is found from its LISTEN event', { skip }, async () => {
  core = createEbpfCore(ebpfContext((c) => { c.agent.ebpf.delivery_latency = '20ms'; }), { builtinTracers: false });
  await core.start();
  assert.equal(core.processEventsActive(), true, 'exec, exit and listen programs attached');
  const ctx = testContext('discovery:\n  scan_interval: 100ms\n  scan_interval_with_events: 1h\n');
  const discovery = createDiscovery(ctx, { processEvents: core });
  const scans = async (): Promise<number> =>
    Number(/telegen_discovery_scan_duration_seconds_count (\d+)/.exec((await ctx.metrics.render()).body)?.[1] ?? 0);
  await discovery.start();
  try {
    const child = spawn(process.execPath, ['-e', `
      const s = require('net').createServer();
      require('readline').createInterface({ input: process.stdin }).on('line', () => s.listen(0, '127.0.0.1', () => console.log(s.address().port)));`],
    { stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(child);
    const pid = child.pid!;
    const changes: string[] = [];
    discovery.onChange((c) => { if (c.pid === pid) changes.push(c.type); });
    for (let i = 0; i < 150 && !discovery.get(pid); i++) await sleep(20);
    assert.ok(discovery.get(pid), 'read from its exec event');
    await sleep(2600); // past when a re-read 2 s after exec would run (without listen events)
    assert.deepEqual(discovery.get(pid)?.ports, [], 'no listener yet');
    assert.deepEqual(changes, ['added'], 'with listen events, no second read after exec');
    const before = await scans();
    assert.ok(before <= 2, `no rescan every 100 ms while events are live (${before} scans in ~3 s)`);
    const port = new Promise<number>((resolve) => child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
    child.stdin!.write('listen\n');
    const p = await port;
    for (let i = 0; i < 200 && !discovery.get(pid)?.ports.length; i++) await sleep(25);
    assert.deepEqual(discovery.get(pid)?.ports.map((x) => x.port), [p], 'found after its LISTEN event');
    assert.equal(await scans(), before, 'without a rescan');
  } finally {
    await discovery.stop();
  }
});
