// Connections opened before the tracer started (an agent restart): a real Node server and a keep-alive client
// connected to it BEFORE the agent slice starts; requests made afterwards on that same connection are traced, one
// server and one client span each, with the right roles — nothing from the bytes before.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { SpanKind } from '../../src/model/span.js';
import { bpfObjectPath } from '../../src/ebpf/paths.js';
import { encodeConn, HTTP_CONN_SIZE, HttpConnOffsets, parseProcNetTcp } from '../../src/tracing/existing-connections.js';
import { bpfSkipReason, freePort, Procs, startAgentSlice, waitFor, waitForPort, type AgentSlice } from './helpers.js';

const skip = bpfSkipReason();
if (skip) console.log(`# skipping existing-connection capture test: ${skip}`);
const FIXTURES = join(import.meta.dirname, 'fixtures');

describe('connections open before tracing began', () => {
  const procs = new Procs();
  let slice: AgentSlice | undefined;
  let client: ChildProcess | undefined;
  after(async () => {
    client?.kill('SIGKILL');
    procs.killAll();
    await slice?.stop();
  });

  it('parses /proc/net/tcp{,6} rows into network-order addresses, ports and states', () => {
    const v4 = parseProcNetTcp(`  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 4242 1 0 20 4 30 10 -1
   1: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4343 1 0 100 0 0 10 0
   2: garbage`, 2);
    assert.equal(v4.size, 2);
    const s = v4.get(4242)!;
    assert.deepEqual([...s.laddr], [127, 0, 0, 1]);
    assert.equal(s.lport, 8080);
    assert.equal(s.rport, 50000);
    assert.equal(s.state, 1);
    assert.equal(v4.get(4343)!.state, 0x0a);
    const v6 = parseProcNetTcp(`  sl  local_address                         remote_address                        st
   0: 00000000000000000000000001000000:1F90 0000000000000000FFFF00000100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 77 1`, 10);
    const s6 = v6.get(77)!;
    assert.equal(s6.laddr.toString('hex'), '00000000000000000000000000000001'); // ::1
    assert.equal(s6.raddr.toString('hex'), '00000000000000000000ffff7f000001'); // ::ffff:127.0.0.1
  });

  it('writes struct http_conn as the compiled object lays it out', { skip: existsSync(bpfObjectPath('http')) ? false : 'BPF objects not built' }, () => {
    const dump = execFileSync('bpftool', ['btf', 'dump', 'file', bpfObjectPath('http')]).toString().split('\n');
    const i = dump.findIndex((l) => l.includes("STRUCT 'http_conn' size="));
    assert.ok(i >= 0);
    assert.equal(Number(/size=(\d+)/.exec(dump[i]!)![1]), HTTP_CONN_SIZE);
    for (let j = i + 1; j < dump.length && dump[j]!.startsWith('\t'); j++) {
      const m = /'(\w+)' type_id=\d+ bits_offset=(\d+)/.exec(dump[j]!)!;
      if (m[1] === '_pad') continue;
      assert.equal(HttpConnOffsets[m[1] as keyof typeof HttpConnOffsets], Number(m[2]) / 8, `http_conn.${m[1]}`);
    }
    const v = encodeConn(5n, 1, { family: 2, laddr: Buffer.from([127, 0, 0, 1]), raddr: Buffer.from([127, 0, 0, 2]), lport: 80, rport: 9, state: 1 });
    assert.equal(v.length, HTTP_CONN_SIZE);
    assert.equal(v.readUInt32LE(HttpConnOffsets.flags), 1); // HTTP_F_RESYNC: parse from the next message start
  });

  it('a keep-alive connection made before the agent started is traced from its next request, both ends', { skip }, async () => {
    const port = await freePort();
    procs.spawn(process.execPath, [join(FIXTURES, 'node-server.mjs'), String(port)]);
    await waitForPort(port);
    const c = spawn(process.execPath, [join(FIXTURES, 'keepalive-client.mjs'), String(port)], { stdio: ['pipe', 'pipe', 'ignore'] });
    client = c;
    const replies: Array<(l: string) => void> = [];
    createInterface({ input: c.stdout }).on('line', (l) => replies.shift()?.(l));
    const get = (path: string) => new Promise<{ status: number; localPort: number }>((resolve) => {
      replies.push((l) => resolve(JSON.parse(l) as { status: number; localPort: number }));
      c.stdin.write(`${path}\n`);
    });
    const before = await get('/hello?before=1');
    assert.equal(before.status, 200);

    // No instrument rules: every process is traced (spans of other traffic on this host are filtered by port).
    slice = await startAgentSlice();
    const status = slice.tracer.status() as { existing_connections: { adopted: number } };
    assert.ok(status.existing_connections.adopted >= 2, `both ends adopted: ${JSON.stringify(status.existing_connections)}`);

    const paths = ['/hello?n=1', '/hello?n=2', '/fail?n=3', '/hello?n=4'];
    for (const p of paths) {
      const r = await get(p);
      assert.equal(r.localPort, before.localPort, 'the same connection, not a new one');
    }
    const ours = () => slice!.spans.filter((s) => s.attributes['server.port'] === port || s.attributes['url.full']?.toString().includes(`:${port}/`));
    await waitFor(() => ours().length >= 2 * paths.length, 10_000, 'a server and a client span per request');
    const spans = ours();
    const server = spans.filter((s) => s.kind === SpanKind.SERVER);
    const client_spans = spans.filter((s) => s.kind === SpanKind.CLIENT);
    // One span per request and side; the request made before the agent started yields none.
    assert.equal(server.length, paths.length);
    assert.equal(client_spans.length, paths.length);
    assert.deepEqual(server.map((s) => s.attributes['http.response.status_code']), [200, 200, 500, 200]);
    assert.deepEqual(client_spans.map((s) => s.attributes['http.response.status_code']), [200, 200, 500, 200]);
    for (const s of server) assert.equal(s.attributes['client.port'], before.localPort);
    for (const s of client_spans) assert.equal(s.attributes['network.peer.port'], port);
  });
});
