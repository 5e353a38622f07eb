// Real processes listening on known ports (Node, Python, a Go binary built here) found with the right ports,
// runtime and service name.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDiscovery, type Discovery } from '../../src/discovery/discovery.js';
import { readGoBuildInfo } from '../../src/discovery/go-buildinfo.js';
import { eventDrivenDiscovery, testContext } from './helpers.js';

const children: ChildProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), 'telegen-disc-'));
const hasGo = spawnSync('go', ['version']).status === 0;
let goBinary = '';

/** Start a process that prints its listening port on its first stdout line. */
async function startListener(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ pid: number; port: number }> {
  const child = spawn(cmd, args, { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const line = buf.split('\n')[0];
      if (buf.includes('\n')) resolve(Number(line));
    });
    child.once('exit', (code) => reject(new Error(`${cmd} exited with ${code}`)));
    setTimeout(() => reject(new Error(`${cmd} did not report a port`)), 20_000).unref();
  });
  return { pid: child.pid!, port };
}

const GO_SERVER = `package main

import (
	"fmt"
	"net"
)

func main() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	fmt.Println(l.Addr().(*net.TCPAddr).Port)
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		c.Write([]byte("HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\nConnection: close\\r\\n\\r\\nok"))
		c.Close()
	}
}
`;

before(() => {
  if (!hasGo) return;
  writeFileSync(join(dir, 'main.go'), GO_SERVER);
  goBinary = join(dir, 'gohttp');
  const r = spawnSync('go', ['build', '-o', goBinary, 'main.go'], {
    cwd: dir, encoding: 'utf8', timeout: 120_000,
    env: { PATH: process.env.PATH, HOME: dir, GOCACHE: join(tmpdir(), 'telegen-test-gocache'), GOPATH: join(dir, 'gopath'), GO111MODULE: 'off' },
  });
  assert.equal(r.status, 0, `go build failed: ${r.stderr}`);
});

after(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

test('finds Node, Python and Go listeners with ports, runtime and service name', async () => {
  const node = await startListener(process.execPath, ['-e', "const s=require('http').createServer((q,r)=>r.end('ok'));s.listen(0,'127.0.0.1',()=>console.log(s.address().port))"], { OTEL_SERVICE_NAME: 'checkout' });
  const py = await startListener('python3', ['-c', "import http.server,sys\ns=http.server.HTTPServer(('127.0.0.1',0),http.server.BaseHTTPRequestHandler)\nprint(s.server_address[1],flush=True)\ns.serve_forever()"]);
  const go = hasGo ? await startListener(goBinary, []) : undefined;
  if (!hasGo) console.log('# skipping the Go process: `go` is not installed');

  const discovery: Discovery = createDiscovery(testContext(`discovery:\n  exclude:\n    - exe_path: "*/python3*"\n`));
  await discovery.start();
  try {
    const n = discovery.get(node.pid);
    assert.ok(n, 'node process found');
    assert.deepEqual(n.ports, [{ port: node.port, protocol: 'tcp' }]);
    assert.equal(n.runtime, 'nodejs');
    assert.equal(n.serviceName, 'checkout');
    assert.equal(n.user, 'root');

    const p = discovery.get(py.pid);
    assert.ok(p, 'python process found');
    assert.deepEqual(p.ports.map((x) => x.port), [py.port]);
    assert.equal(p.runtime, 'python');
    assert.match(p.serviceName, /^python3/);

    if (go) {
      const g = discovery.get(go.pid)!;
      assert.ok(g, 'go process found');
      assert.deepEqual(g.ports.map((x) => x.port), [go.port]);
      assert.equal(g.runtime, 'go');
      assert.match(g.runtimeVersion, /^go1\.\d+/);
      assert.equal(g.serviceName, 'gohttp');
      assert.equal(g.exePath, goBinary);
    }

    // Rules: python3 excluded by exe_path glob, node instrumented (empty instrument list), Telegen itself never.
    assert.equal(discovery.shouldInstrument(node.pid), true);
    assert.equal(discovery.shouldInstrument(py.pid), false);
    assert.equal(discovery.shouldInstrument(process.pid), false);

    const res = discovery.resourceFor(node.pid).attributes;
    assert.equal(res['service.name'], 'checkout');
    assert.equal(res['process.pid'], node.pid);
    assert.equal(res['process.runtime.name'], 'nodejs');
    assert.equal(res['process.executable.path'], process.execPath);
    assert.equal(res['host.name'], 'test-host');

    const status = discovery.status();
    const svc = status.discovered_services.find((s) => s.name === 'checkout');
    assert.deepEqual(svc, { name: 'checkout', namespace: '', instances: 1, ports: [node.port] });
    assert.equal(status.kubernetes.enabled, false);
    assert.equal(discovery.health(), 'ok');
  } finally {
    await discovery.stop();
  }
});

test('exec/exit events update the catalog between scans', async () => {
  const { events, discovery, changes } = await eventDrivenDiscovery('discovery:\n  scan_interval: 1h\n');
  try {
    const late = await startListener(process.execPath, ['-e', "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>console.log(s.address().port))"]);
    assert.equal(discovery.get(late.pid), undefined, 'not seen before the event (scan interval is 1h)');
    events.emit({ type: 'exec', pid: late.pid, ppid: process.pid, comm: 'node' });
    for (let i = 0; i < 100 && !discovery.get(late.pid); i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(discovery.get(late.pid)?.ports.map((p) => p.port), [late.port]);
    events.emit({ type: 'exit', pid: late.pid, ppid: process.pid, comm: 'node' });
    assert.equal(discovery.get(late.pid), undefined);
    assert.deepEqual(changes, [`added:${late.pid}`, `removed:${late.pid}`]);
  } finally {
    await discovery.stop();
  }
  assert.equal(events.subscribed(), false, 'unsubscribed on stop');
});

test('Go build info is read from the ELF section', { skip: !hasGo && 'go is not installed' }, async () => {
  const info = await readGoBuildInfo(goBinary);
  const goVersion = spawnSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' }).stdout.trim();
  assert.equal(info?.version, goVersion);
  assert.equal(await readGoBuildInfo(process.execPath), undefined, 'node is not a Go binary');
});
