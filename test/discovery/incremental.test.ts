// Incremental rescans: cached processes are re-read cheaply, yet ports opened or closed after the first scan are
// seen at the next one; exec'd processes are read again for the ports they open after exec; rescans slow down
// while exec/exit events flow.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { ProcScanner } from '../../src/discovery/scanner.js';
import { createDiscovery } from '../../src/discovery/discovery.js';
import { eventDrivenDiscovery, fakeProcessEvents, testContext } from './helpers.js';

const children: ChildProcess[] = [];
after(() => { for (const c of children) c.kill('SIGKILL'); });

/** A Node process that listens on a new port each time it reads a line "open" and closes them all on "close". */
function portOpener(): { pid: number; open: () => Promise<number>; closeAll: () => Promise<void> } {
  const child = spawn(process.execPath, ['-e', `
    const net = require('net'); const servers = [];
    require('readline').createInterface({ input: process.stdin }).on('line', (l) => {
      if (l === 'open') { const s = net.createServer(); servers.push(s); s.listen(0, '127.0.0.1', () => console.log(s.address().port)); }
      else { let n = servers.length; if (!n) console.log('closed'); for (const s of servers.splice(0)) s.close(() => { if (--n === 0) console.log('closed'); }); }
    });
    console.log('ready');`], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  const lines: string[] = [];
  const waiters: Array<(l: string) => void> = [];
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const l = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const w = waiters.shift();
      if (w) w(l); else lines.push(l);
    }
  });
  const next = (): Promise<string> => (lines.length ? Promise.resolve(lines.shift()!) : new Promise((r) => waiters.push(r)));
  void next(); // 'ready'
  return {
    pid: child.pid!,
    open: async () => { child.stdin!.write('open\n'); return Number(await next()); },
    closeAll: async () => { child.stdin!.write('close\n'); await next(); },
  };
}

test('rescans see ports opened and closed after the first scan (fd tables walked again only when a listener appears)', async () => {
  const p = portOpener();
  const scanner = new ProcScanner({ procRoot: '/proc', passwdPath: '/etc/passwd', maxProcesses: 20000, concurrency: 16 });
  await new Promise((r) => setTimeout(r, 200));
  const first = await scanner.scan();
  assert.deepEqual(first.processes.get(p.pid)?.ports, [], 'no port yet');
  const a = await p.open();
  const second = await scanner.scan();
  assert.deepEqual(second.processes.get(p.pid)?.ports.map((x) => x.port), [a], 'a new listener is found by the next scan');
  const third = await scanner.scan();
  assert.deepEqual(third.processes.get(p.pid)?.ports.map((x) => x.port), [a], 'kept from the cache when nothing new listens');
  const b = await p.open();
  const fourth = await scanner.scan();
  assert.deepEqual(fourth.processes.get(p.pid)?.ports.map((x) => x.port), [a, b].sort((x, y) => x - y));
  await p.closeAll();
  const fifth = await scanner.scan();
  assert.deepEqual(fifth.processes.get(p.pid)?.ports, [], 'closed listeners are gone');
});

test('an exec\'d process is read again later for the ports it opened after exec', async () => {
  const { events, discovery, changes } = await eventDrivenDiscovery('discovery:\n  scan_interval: 1h\n');
  try {
    const p = portOpener();
    await new Promise((r) => setTimeout(r, 200));
    events.emit({ type: 'exec', pid: p.pid, ppid: process.pid, comm: 'node' });
    for (let i = 0; i < 100 && !discovery.get(p.pid); i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(discovery.get(p.pid)?.ports, [], 'read at exec: no port yet');
    const port = await p.open();
    for (let i = 0; i < 200 && !discovery.get(p.pid)?.ports.length; i++) await new Promise((r) => setTimeout(r, 25));
    assert.deepEqual(discovery.get(p.pid)?.ports.map((x) => x.port), [port], 'the re-read (2 s after exec) found the port, no rescan ran');
    assert.deepEqual(changes, [`added:${p.pid}`, `updated:${p.pid}`]);
  } finally {
    await discovery.stop();
  }
});

test('rescans run every scan_interval, and every scan_interval_with_events while exec/exit events flow', async () => {
  const events = fakeProcessEvents();
  const ctx = testContext('discovery:\n  scan_interval: 100ms\n  scan_interval_with_events: 1h\n');
  const discovery = createDiscovery(ctx, {
    processEvents: events.source,
  });
  const scans = async (): Promise<number> =>
    Number(/telegen_discovery_scan_duration_seconds_count (\d+)/.exec((await ctx.metrics.render()).body)?.[1] ?? 0);
  await discovery.start();
  try {
    await new Promise((r) => setTimeout(r, 700));
    const quiet = await scans();
    assert.ok(quiet >= 4, `no events: rescans every 100 ms (${quiet} scans in 0.7 s)`);
    events.emit({ type: 'exit', pid: 999999, ppid: 1, comm: 'gone' });
    await new Promise((r) => setTimeout(r, 250)); // the timer armed before the event may still fire once
    const flowing = await scans();
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(await scans(), flowing, 'events flowing: no rescan within the longer interval');
  } finally {
    await discovery.stop();
  }
});
