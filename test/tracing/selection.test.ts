// Process selection is discovery's rules, applied in the kernel: with `discovery.instrument` only the selected
// processes produce spans (clients included); with `discovery.exclude` the excluded ones never do.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, linkSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SpanKind } from '../../src/model/span.js';
import { bpfSkipReason, freePort, Procs, run, sleep, startAgentSlice, waitFor, waitForPort, type AgentSlice } from './helpers.js';

const skip = bpfSkipReason();
if (skip) console.log(`# skipping selection tests: ${skip}`);
const FIXTURES = join(import.meta.dirname, 'fixtures');

describe('HTTP tracing follows discovery.instrument / discovery.exclude', { skip }, () => {
  const procs = new Procs();
  let slice: AgentSlice | undefined;
  after(async () => {
    procs.killAll();
    await slice?.stop();
  });

  it('instrument by open port: only that server is traced, not its neighbour nor the clients', async () => {
    const [selected, other] = [await freePort(), await freePort()];
    slice = await startAgentSlice((c) => {
      c.discovery.instrument = [{ open_ports: String(selected) }];
      c.discovery.scan_interval = '500ms';
    });
    const a = procs.spawn(process.execPath, [join(FIXTURES, 'node-server.mjs'), String(selected)]);
    const b = procs.spawn(process.execPath, [join(FIXTURES, 'node-server.mjs'), String(other)]);
    await Promise.all([waitForPort(selected), waitForPort(other)]);
    const cat = slice.catalog;
    await waitFor(() => cat.shouldInstrument(a.pid!) && cat.get(b.pid!) !== undefined, 10_000, 'discovery to see both servers');
    assert.equal(cat.shouldInstrument(b.pid!), false);
    await sleep(100); // the pid filter follows the catalog's change events
    for (const port of [selected, other]) {
      const r = await run('curl', ['-s', '-o', '/dev/null', '-o', '/dev/null', `http://127.0.0.1:${port}/hello`, `http://127.0.0.1:${port}/missing`], procs);
      assert.equal(r.code, 0);
    }
    await waitFor(() => slice!.spans.filter((s) => s.attributes['server.port'] === selected).length >= 2, 10_000, 'spans of the selected server');
    await sleep(300);
    const onPort = (p: number) => slice!.spans.filter((s) => s.attributes['server.port'] === p || s.attributes['network.peer.port'] === p);
    assert.deepEqual(onPort(selected).map((s) => [s.kind, s.attributes['url.path']]), [[SpanKind.SERVER, '/hello'], [SpanKind.SERVER, '/missing']]);
    assert.deepEqual(onPort(other), []);
    await slice.stop();
    slice = undefined;
  });

  it('exclude by executable: python is never traced while node is', async () => {
    const [py, node] = [await freePort(), await freePort()];
    slice = await startAgentSlice((c) => {
      c.discovery.exclude = [{ exe_path: '*python*' }];
      c.discovery.scan_interval = '500ms';
    });
    const dir = procs.tempDir('tg-sel-');
    writeFileSync(join(dir, 'a.txt'), 'a');
    const p = procs.spawn('python3', ['-m', 'http.server', String(py), '--bind', '127.0.0.1', '--directory', dir]);
    procs.spawn(process.execPath, [join(FIXTURES, 'node-server.mjs'), String(node)]);
    await Promise.all([waitForPort(py), waitForPort(node)]);
    await waitFor(() => slice!.catalog.get(p.pid!)?.exePath.includes('python') === true, 10_000, 'discovery to see python');
    await sleep(100);
    await run('curl', ['-s', '-o', '/dev/null', '-o', '/dev/null', `http://127.0.0.1:${py}/a.txt`, `http://127.0.0.1:${node}/hello`], procs);
    await waitFor(() => slice!.spans.some((s) => s.kind === SpanKind.SERVER && s.attributes['server.port'] === node), 10_000, 'node server span');
    await sleep(300);
    assert.equal(slice.spans.filter((s) => s.kind === SpanKind.SERVER && s.attributes['server.port'] === py).length, 0, 'no python server span');
    // curl is still traced: its call to python is a client span.
    assert.equal(slice.spans.filter((s) => s.kind === SpanKind.CLIENT && s.attributes['network.peer.port'] === py).length, 1);
  });

  it('a client selected by executable is traced from its first request, even right after another exec', async () => {
    // Whether a process is traced waits on its exec event; a client sends within ~50 ms of exec. Each client here
    // is exec'd right after another process (a just-delivered wakeup must not make its exec event wait for the
    // consumer's timer, up to agent.ebpf.delivery_latency).
    const port = await freePort();
    await slice?.stop();
    slice = await startAgentSlice((c) => {
      c.discovery.instrument = [{ exe_path: '*/tg-sel-client' }];
    });
    procs.spawn(process.execPath, [join(FIXTURES, 'node-server.mjs'), String(port)]);
    await waitForPort(port);
    const dir = procs.tempDir('tg-sel-client-');
    const client = join(dir, 'tg-sel-client');
    try {
      linkSync(realpathSync(process.execPath), client);
    } catch {
      copyFileSync(realpathSync(process.execPath), client);
    }
    await sleep(300);
    for (let i = 0; i < 5; i++) {
      const plan = { port, requests: [{ method: 'GET', path: `/first-${i}` }], keepAlive: false };
      const [, r] = await Promise.all([run('/bin/true', [], procs), run(client, [join(FIXTURES, 'node-client.mjs'), JSON.stringify(plan)], procs)]);
      assert.equal(r.code, 0);
      await sleep(250);
    }
    await waitFor(() => slice!.spans.filter((s) => s.kind === SpanKind.CLIENT).length >= 5, 5_000, 'five client spans')
      .catch(() => undefined);
    const paths = slice.spans.filter((s) => s.kind === SpanKind.CLIENT).map((s) => s.attributes['url.path']).sort();
    assert.deepEqual(paths, [0, 1, 2, 3, 4].map((i) => `/first-${i}`));
  });
});
