// Outage: steady load, receiver stopped, the agent process killed with SIGKILL mid-outage, restarted, receiver
// back → every durably accepted item is delivered at least once (unique ids), none lost, duplicates counted.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { seqsOf, tmp, waitFor } from '../export/helpers/fixtures.js';
import { startHttpReceiver, type Receiver } from '../export/helpers/receiver.js';

interface Child { proc: ChildProcess; durable: number; pushed: number; refused: number }

function runChild(config: string, env: Record<string, string>): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures/pipeline-child.ts')], {
    env: { ...process.env, CONFIG: config, ...env }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  const c: Child = { proc, durable: 0, pushed: 0, refused: 0 };
  let buf = '';
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const lines = buf.split('\n');
    buf = lines.pop()!;
    for (const l of lines) {
      const m = /^durable (\d+) pushed (\d+) refused (\d+)/.exec(l);
      if (m) { c.durable = Number(m[1]); c.pushed = Number(m[2]); c.refused = Number(m[3]); }
    }
  });
  return c;
}

describe('outage with SIGKILL: nothing durably accepted is lost', () => {
  const procs: ChildProcess[] = [];
  const receivers: Receiver[] = [];
  after(async () => {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    for (const r of receivers) await r.close();
  });

  it('delivers every item at least once across receiver outage and agent SIGKILL', async (t) => {
    const dir = tmp('outage');
    const rx1 = await startHttpReceiver();
    receivers.push(rx1);
    const port = rx1.port;
    const config = join(dir, 'config.yaml');
    writeFileSync(config, stringify({
      otlp: { endpoint: `http://127.0.0.1:${port}`, protocol: 'http', insecure: true, flush_interval: '50ms', timeout: '2s',
        retry: { initial_interval: '100ms', max_interval: '400ms' }, traces: { batch_size: 50, queue_capacity: 5000 } },
      queue: { directory: join(dir, 'queue') }, file_exporter: { enabled: false }, shutdown_timeout: '5s',
    }));

    // Phase 1: steady load (2000 spans/s), receiver up.
    const a = runChild(config, { START: '0', COUNT: '0', RATE: '2000' });
    procs.push(a.proc);
    await waitFor(() => rx1.received.length >= 10, 15_000, 'first deliveries');
    // Receiver stopped; the agent keeps accepting into its persistent queue.
    await rx1.close();
    const deliveredBefore = new Set(seqsOf(rx1.received.map((r) => r.body)));
    await new Promise((r) => setTimeout(r, 1500));
    // SIGKILL mid-outage: no chance to flush anything.
    a.proc.kill('SIGKILL');
    await new Promise((r) => a.proc.once('exit', r));
    const durableA = a.durable;
    assert.equal(a.refused, 0, 'nothing refused under steady load');
    assert.ok(durableA > deliveredBefore.size + 1000, `an outage backlog exists (durable ${durableA}, delivered ${deliveredBefore.size})`);

    // Phase 2: the agent restarts (still no receiver) and keeps taking new data.
    const b = runChild(config, { START: '1000000', COUNT: '1000', RATE: '2000' });
    procs.push(b.proc);
    await waitFor(() => b.durable === 1000, 15_000, 'restarted agent to accept its 1000 spans');
    // Receiver back on the same port.
    const rx2 = await startHttpReceiver({ port });
    receivers.push(rx2);
    const expected = [...Array.from({ length: durableA }, (_, i) => i), ...Array.from({ length: 1000 }, (_, i) => 1_000_000 + i)];
    const all = () => [...seqsOf(rx1.received.map((r) => r.body)), ...seqsOf(rx2.received.map((r) => r.body))];
    await waitFor(() => { const s = new Set(all()); return expected.every((id) => s.has(id)); }, 30_000, 'every durable id to be delivered');
    const got = all();
    const unique = new Set(got);
    const lost = expected.filter((id) => !unique.has(id)).length;
    const duplicates = got.length - unique.size;
    t.diagnostic(`durable before kill ${durableA}, delivered before outage ${deliveredBefore.size}, received ${got.length}, unique ${unique.size}, duplicates ${duplicates}, lost ${lost}`);
    assert.equal(lost, 0);
    // Duplicates come only from batches in flight when the receiver went away or the process died.
    assert.ok(duplicates < 200, `duplicates stay within the in-flight window (${duplicates})`);
    b.proc.kill('SIGTERM');
    await new Promise((r) => b.proc.once('exit', r));
  });
});
