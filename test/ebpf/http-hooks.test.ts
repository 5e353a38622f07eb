// The HTTP tracer's kernel side is a pair of syscall tracepoint programs per hooked call (sys_enter_* keeps the
// arguments and the entry time, sys_exit_* captures). These tests drive every call shape through them with a real
// (python3, blocking sockets) client against a real Node server: the arguments (fd, buffer, iovec count, msghdr,
// recv flags) must be read right for each, MSG_PEEK must not advance positions, a reused fd number must not mix
// connections, and a request larger than the socket buffers (written by one blocking call) must be delimited by
// position and timed from the write's entry. A 32-bit process's syscalls (the i386 table) must never be read as
// x86_64 ones.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { bpfObjectPath } from '../../src/ebpf/paths.js';
import { SpanKind, type Span } from '../../src/model/span.js';
import { createDiscovery } from '../../src/discovery/discovery.js';
import { createEbpfCore, type EbpfSubsystem } from '../../src/ebpf/core.js';
import { createHttpTracer, HTTP_PROGRAMS } from '../../src/tracing/http-tracer.js';
import { bpfSkipReason, freePort, Procs, run, testContext, waitFor, waitForPort, writeFile } from '../tracing/helpers.js';

const skip = bpfSkipReason();
if (skip) console.log(`# skipping HTTP hook tests: ${skip}`);
const SERVER = join(import.meta.dirname, '..', 'tracing', 'fixtures', 'node-server.mjs');

/** One request per call shape; each checks its own response and exits non-zero when it is wrong. */
const CLIENT = `
import os, socket, sys
mode, port = sys.argv[1], int(sys.argv[2])

def conn():
    s = socket.create_connection(("127.0.0.1", port))
    return s

def head(s, path, body=b""):
    return (f"POST {path} HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: {len(body)}\\r\\n\\r\\n" if body else
            f"GET {path} HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n").encode()

def read_response(recv):
    data = b""
    while b"\\r\\n\\r\\n" not in data:
        data += recv()
    hdr, _, rest = data.partition(b"\\r\\n\\r\\n")
    length = int([l for l in hdr.split(b"\\r\\n") if l.lower().startswith(b"content-length:")][0].split(b":")[1])
    while len(rest) < length:
        rest += recv()
    return hdr.split(b" ")[1], rest

if mode == "peek":      # recvfrom(MSG_PEEK) first, then the real reads: the peeked bytes must count once
    s = conn()
    s.sendall(head(s, "/users/peek"))
    assert s.recv(16, socket.MSG_PEEK).startswith(b"HTTP/1.1")
    status, body = read_response(lambda: s.recv(7))
    assert status == b"200" and body == b'{"id":"peek"}', (status, body)
elif mode == "msg":     # sendmsg with two buffers, recvmsg
    s = conn()
    s.sendmsg([b"GET /users/msg HTTP/1.1\\r\\n", b"Host: x\\r\\n\\r\\n"])
    status, body = read_response(lambda: s.recvmsg(9)[0])
    assert status == b"200" and body == b'{"id":"msg"}', (status, body)
elif mode == "vec":     # writev with three buffers, readv into two
    s = conn()
    os.writev(s.fileno(), [b"GET /users/", b"vec HTTP/1.1\\r\\nHost: x", b"\\r\\n\\r\\n"])
    def rv():
        a, b = bytearray(5), bytearray(6)
        n = os.readv(s.fileno(), [a, b])
        return bytes((a + b)[:n])
    status, body = read_response(rv)
    assert status == b"200" and body == b'{"id":"vec"}', (status, body)
elif mode == "reuse":   # close, reconnect (the same fd number), again: two connections, never mixed
    for i in range(3):
        s = conn()
        fd = s.fileno()
        s.sendall(head(s, f"/users/reuse{i}"))
        status, body = read_response(lambda: s.recv(4096))
        assert status == b"200" and body == f'{{"id":"reuse{i}"}}'.encode(), (status, body)
        s.close()
        print(fd)
elif mode == "big":     # one blocking write of 8 MB: returns only after the server read most of it
    s = conn()
    body = b"z" * (8 << 20)
    s.sendall(head(s, "/echo", body) + body)
    status, got = read_response(lambda: s.recv(1 << 20))
    assert status == b"200" and len(got) == len(body), (status, len(got))
`;

describe('HTTP syscall hooks: every call shape through the per-syscall tracepoints', { skip }, () => {
  const procs = new Procs();
  let slice: { ebpf: EbpfSubsystem; spans: Span[]; stop(): Promise<void> };
  let port: number;
  let client: string;
  before(async () => {
    port = await freePort();
    // The tracing slice of the agent (as test/tracing/helpers.ts starts it), with the core at hand for its status.
    const ctx = testContext();
    const ebpf = createEbpfCore(ctx, { builtinTracers: false });
    const discovery = createDiscovery(ctx, { processEvents: ebpf });
    const tracer = createHttpTracer(ctx, { ebpf, catalog: discovery });
    const spans: Span[] = [];
    tracer.onSpan((sp) => spans.push(sp));
    await ebpf.start();
    await discovery.start();
    await tracer.start();
    slice = { ebpf, spans, stop: async () => { await tracer.stop(); await discovery.stop(); await ebpf.stop(); } };
    procs.spawn(process.execPath, [SERVER, String(port)]);
    await waitForPort(port);
    client = writeFile(procs.tempDir('tg-hooks-'), 'client.py', CLIENT);
  });
  after(async () => {
    procs.killAll();
    await slice?.stop();
  });

  const spansFor = (path: string, kind: SpanKind): Span[] =>
    slice.spans.filter((s) => s.kind === kind && s.attributes['url.path'] === path &&
      (s.attributes['server.port'] === port || s.attributes['network.peer.port'] === port));

  async function exchange(mode: string, paths: string[]): Promise<{ stdout: string; client: Span[]; server: Span[] }> {
    const r = await run('python3', [client, mode, String(port)], procs);
    assert.equal(r.code, 0, `python client ${mode} failed`);
    await waitFor(() => paths.every((p) => spansFor(p, SpanKind.CLIENT).length >= 1 && spansFor(p, SpanKind.SERVER).length >= 1),
      10_000, `client and server spans of ${paths.join(', ')}`);
    return { stdout: r.stdout, client: paths.flatMap((p) => spansFor(p, SpanKind.CLIENT)), server: paths.flatMap((p) => spansFor(p, SpanKind.SERVER)) };
  }

  it('/status/ebpf lists every HTTP program as an attached tracepoint', () => {
    const http = slice.ebpf.status().programs.filter((p) => p.name.startsWith('trace_http_'));
    assert.deepEqual(http.map((p) => p.name).sort(), [...HTTP_PROGRAMS].sort());
    for (const p of http) assert.deepEqual([p.name, p.type, p.attached], [p.name, 'tracepoint', true]);
  });

  it('recvfrom with MSG_PEEK, then reads of 7 bytes: one client span, the response parsed whole', async () => {
    const { client: c, server } = await exchange('peek', ['/users/peek']);
    assert.equal(c.length, 1);
    assert.equal(c[0]!.attributes['http.response.status_code'], 200);
    assert.equal(server.length, 1);
  });

  it('sendmsg of two buffers and recvmsg: the msghdr kept from the entry is read at exit', async () => {
    const { client: c } = await exchange('msg', ['/users/msg']);
    assert.equal(c.length, 1);
    assert.equal(c[0]!.attributes['http.request.method'], 'GET');
    assert.equal(c[0]!.attributes['http.response.status_code'], 200);
  });

  it('writev of three buffers and readv into two: the iovec count comes from the third argument', async () => {
    const { client: c } = await exchange('vec', ['/users/vec']);
    assert.equal(c.length, 1);
    assert.equal(c[0]!.attributes['http.response.status_code'], 200);
  });

  it('close then connect on the same fd number: each connection gets its own spans', async () => {
    const paths = ['/users/reuse0', '/users/reuse1', '/users/reuse2'];
    const { stdout, client: c, server } = await exchange('reuse', paths);
    const fds = stdout.trim().split('\n');
    assert.equal(new Set(fds).size, 1, `the client reused one fd number (${fds.join(', ')})`);
    assert.deepEqual(c.map((s) => s.attributes['url.path']), paths);
    assert.equal(new Set(c.map((s) => s.attributes['client.port'])).size, 3, 'three connections');
    assert.equal(server.length, 3);
    for (const s of c) assert.equal(s.attributes['http.response.status_code'], 200);
  });

  it('one blocking 8 MB request write: a client and a server span, the 8 MB body and echo delimited by position', async () => {
    const { client, server } = await exchange('big', ['/echo']);
    assert.equal(client.length, 1);
    assert.equal(server.length, 1);
    const [c, srv] = [client[0]!, server[0]!];
    for (const s of [c, srv]) {
      assert.equal(s.attributes['http.request.method'], 'POST');
      assert.equal(s.attributes['http.response.status_code'], 200);
    }
    // The client span starts at the ENTRY of the request's first write (kept by the enter program), so the blocking
    // 8 MB write — which returns only after the server read most of the body — lies inside it: the client span
    // encloses the server span.
    assert.ok(c.startTimeUnixNano <= srv.startTimeUnixNano, 'the client started writing before the server read the first byte');
    assert.ok(srv.endTimeUnixNano <= c.endTimeUnixNano, 'the server answered before the client read the answer');
  });
});

/**
 * A 32-bit (int 0x80) process, no libc: socket + connect to 127.0.0.1:<port> (i386 359/362), then pipe() — i386
 * number 42, which is connect on x86_64 — with edi (x86_64's first-argument register) holding the connected
 * socket's fd, prints that fd and sleeps. Read with the x86_64 table, its pipe() would register a client connection.
 */
const COMPAT_C = (port: number) => `
static long sys(long nr, long b, long c, long d, long si, long di) {
  long ret;
  __asm__ volatile ("int $0x80" : "=a"(ret) : "a"(nr), "b"(b), "c"(c), "d"(d), "S"(si), "D"(di) : "memory");
  return ret;
}
void _start(void) {
  unsigned char sa[16] = {2, 0, ${port >> 8}, ${port & 255}, 127, 0, 0, 1};
  int fds[2];
  long fd = sys(359, 2, 1, 0, 0, 0);
  if (sys(362, fd, (long)sa, 16, 0, 0) != 0) sys(1, 3, 0, 0, 0, 0);
  long r = sys(42, (long)fds, 0, 0, 0, fd);
  char msg[] = {'0' + fd / 10, '0' + fd % 10, '\\n'};
  sys(4, 1, (long)msg, 3, 0, 0);
  long ts[2] = {2, 0};
  sys(162, (long)ts, 0, 0, 0, 0);
  sys(1, r == 0 ? 0 : 4, 0, 0, 0, 0);
}`;

/** The smallest 32-bit program: exit(7) through int 0x80, to learn whether this kernel runs 32-bit code at all. */
const EXIT7_C = 'void _start(void) { __asm__ volatile ("int $0x80" : : "a"(1), "b"(7)); }';

describe('HTTP syscall hooks: 32-bit processes', { skip: skip ?? (process.arch === 'x64' ? undefined : 'x86_64 only') }, () => {
  const procs = new Procs();
  let server: Server | undefined;
  let ebpf: EbpfSubsystem | undefined;
  after(async () => {
    procs.killAll();
    server?.close();
    await ebpf?.stop();
  });

  it('an i386 syscall is not dispatched by its number in the x86_64 table (pipe is not connect)', async (t) => {
    const dir = procs.tempDir('tg-hooks-compat-');
    server = createServer((c) => c.on('error', () => {})).listen(0, '127.0.0.1');
    await new Promise((r) => server!.once('listening', r));
    const port = (server.address() as { port: number }).port;
    const bin = join(dir, 'compat');
    const cc = spawnSync('gcc', ['-m32', '-nostdlib', '-static', '-O1', '-fno-stack-protector', '-fno-pic', '-o', bin, writeFile(dir, 'compat.c', COMPAT_C(port))], { encoding: 'utf8' });
    if (cc.status !== 0) {
      t.skip(`cannot build a 32-bit program here: ${cc.stderr.split('\n')[0]}`);
      return;
    }
    // A kernel built or booted without IA32 emulation refuses to exec it (ENOEXEC): nothing to test then.
    const probe = join(dir, 'exit7');
    spawnSync('gcc', ['-m32', '-nostdlib', '-static', '-o', probe, writeFile(dir, 'exit7.c', EXIT7_C)]);
    const ran = spawnSync(probe);
    if (ran.status !== 7) {
      t.skip(`this kernel does not run 32-bit programs (a 32-bit exit(7) gave ${ran.error?.message ?? `status ${ran.status}`})`);
      return;
    }
    ebpf = createEbpfCore(testContext(), { builtinTracers: false, processEvents: false });
    await ebpf.start();
    const h = ebpf.loadObject({ name: 'http-compat-check', objectFile: bpfObjectPath('http'), attach: [...HTTP_PROGRAMS] });
    const traceAll = Buffer.alloc(8);
    traceAll.writeUInt32LE(1); // http_settings.default_action = HTTP_PID_TRACE: every process is traced
    h.map('http_settings').update(Buffer.alloc(4), traceAll);
    const p = procs.spawn(bin, []);
    const fd = await new Promise<number>((resolve, reject) => {
      p.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
      p.once('exit', (code) => reject(new Error(`compat program exited ${code} before printing its fd`)));
    });
    const key = Buffer.alloc(8);
    key.writeUInt32LE(p.pid!);
    key.writeUInt32LE(fd, 4);
    assert.ok(fd > 2);
    assert.equal(h.map('http_conns').lookup(key), null, `fd ${fd} of the 32-bit process was registered as a connection`);
  });
});
