// A fake proc root with everything that goes wrong on real hosts: vanishing pids, unreadable files, garbage,
// names with spaces, parentheses and newlines, oversized files. The scan must survive and read what it can.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcScanner } from '../../src/discovery/scanner.js';
import { containerIdFromCgroup } from '../../src/discovery/container-id.js';
import { SelectionRules, parsePortRanges } from '../../src/discovery/selectors.js';
import { createDiscovery } from '../../src/discovery/discovery.js';
import { testContext } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'telegen-fakeproc-'));
after(() => rmSync(root, { recursive: true, force: true }));

const ID = 'a'.repeat(64);
const statLine = (pid: number, comm: string, ppid = 1, start = 500): string =>
  `${pid} (${comm}) S ${ppid} ${pid} ${pid} 0 -1 4194560 100 0 0 0 1 1 0 0 20 0 1 0 ${start} 1000 100 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n`;

function proc(pid: number, files: Record<string, string | Buffer>, links: Record<string, string> = {}): string {
  const d = join(root, String(pid));
  mkdirSync(join(d, 'fd'), { recursive: true });
  mkdirSync(join(d, 'net'), { recursive: true });
  mkdirSync(join(d, 'ns'), { recursive: true });
  for (const [f, c] of Object.entries(files)) writeFileSync(join(d, f), c);
  for (const [f, t] of Object.entries(links)) symlinkSync(t, join(d, f));
  return d;
}

function buildFakeProc(): void {
  writeFileSync(join(root, 'stat'), 'cpu 1 2 3\nbtime 1700000000\n');
  writeFileSync(join(root, 'passwd'), 'root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n');
  const tcp = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n'
    + '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0 100 0 0 10 0\n'
    + '   1: garbage line\n';
  // A Java service in a docker container, with a name full of odd characters.
  const d = proc(100, {
    stat: statLine(100, 'my (odd) proc\nname) x'), status: 'Name:\tx\nUid:\t1000\t1000\t1000\t1000\n',
    cmdline: 'java\0-jar\0app.jar\0', environ: 'PATH=/bin\0OTEL_SERVICE_NAME=orders\0OTEL_SERVICE_NAMESPACE=shop\0',
    cgroup: `12:memory:/docker/${ID}\n0::/system.slice/docker-${ID}.scope\n`,
    maps: '7f00-7f01 r-xp 0 08:01 1 /usr/lib/jvm/java-17/lib/server/libjvm.so\n',
  }, { exe: '/usr/lib/jvm/java-17/bin/java (deleted)', 'ns/net': 'net:[1]' });
  writeFileSync(join(d, 'net', 'tcp'), tcp);
  symlinkSync('socket:[4242]', join(d, 'fd', '3'));
  symlinkSync('/dev/null', join(d, 'fd', '0'));
  symlinkSync('socket:[999]', join(d, 'fd', '4')); // a socket that is not listening
  // stat is a directory: unreadable as a file.
  mkdirSync(join(root, '101', 'stat'), { recursive: true });
  // Garbage stat.
  proc(102, { stat: 'garbage without parens', cmdline: 'x\0' });
  // A pid directory that is already empty (vanished between readdir and read).
  mkdirSync(join(root, '103'));
  // Oversized cmdline and environ, invalid UTF-8 in the name.
  proc(104, { stat: statLine(104, '\xff\xfe weird'), cmdline: Buffer.alloc(2 * 1024 * 1024, 0x41), environ: Buffer.alloc(1024 * 1024, 0x42) }, { exe: '/usr/bin/python3.11' });
  // A kernel thread: no exe, empty cmdline.
  proc(105, { stat: statLine(105, 'kworker/0:1', 2), cmdline: '' });
  // Entries that are not pids.
  mkdirSync(join(root, 'self'));
  mkdirSync(join(root, '12abc'));
  writeFileSync(join(root, '106'), 'a file, not a directory');
}

test('a scan survives odd and vanishing /proc entries and reads what it can', async () => {
  buildFakeProc();
  const scanner = new ProcScanner({ procRoot: root, passwdPath: join(root, 'passwd'), maxProcesses: 1000, concurrency: 4 });
  // Pids appear and vanish while scans run.
  let churn = true;
  const churner = (async () => {
    for (let i = 0; churn; i++) {
      const pid = 2000 + (i % 50);
      try {
        proc(pid, { stat: statLine(pid, `short ${i}`), cmdline: 'sleep\0' + '1\0' });
      } catch { /* exists */ }
      rmSync(join(root, String(2000 + ((i + 25) % 50))), { recursive: true, force: true });
      await new Promise((r) => setImmediate(r));
    }
  })();
  for (let i = 0; i < 20; i++) await scanner.scan();
  churn = false;
  await churner;

  const r = await scanner.scan();
  const p = r.processes.get(100);
  assert.ok(p, 'the odd-named process is read');
  assert.equal(p.comm, 'my (odd) proc\nname) x');
  assert.equal(p.exePath, '/usr/lib/jvm/java-17/bin/java');
  assert.equal(p.exeName, 'java');
  assert.deepEqual(p.cmdline, ['java', '-jar', 'app.jar']);
  assert.equal(p.user, 'app');
  assert.equal(p.runtime, 'java');
  assert.equal(p.containerId, ID);
  assert.equal(p.serviceName, 'orders');
  assert.equal(p.serviceNamespace, 'shop');
  assert.deepEqual(p.ports, [{ port: 8080, protocol: 'tcp' }]);
  assert.equal(p.startTimeMs, 1700000000 * 1000 + 5000);
  const big = r.processes.get(104);
  assert.ok(big, 'oversized files are read bounded');
  assert.ok(big.cmdline.join('').length <= 16 * 1024);
  assert.equal(big.runtime, 'python');
  for (const pid of [101, 102, 103, 105, 106]) assert.equal(r.processes.has(pid), false, `pid ${pid} skipped`);
});

test('the process cap is enforced and counted', async () => {
  const ctx = testContext('discovery:\n  max_processes: 1\n');
  const d = createDiscovery(ctx, { procRoot: root, passwdPath: join(root, 'passwd') });
  await d.start();
  try {
    assert.ok(d.processes().length <= 1);
    const text = (await ctx.metrics.render()).body;
    const dropped = Number(/telegen_discovery_processes_dropped_total (\d+)/.exec(text)?.[1]);
    assert.ok(dropped >= 1, `dropped counter ${dropped}`);
  } finally {
    await d.stop();
  }
});

test('an unreadable proc root fails the discovery check instead of throwing', async () => {
  const d = createDiscovery(testContext(), { procRoot: join(root, 'does-not-exist') });
  await d.start();
  assert.match(d.health(), /^failed: /);
  await d.stop();
});

test('container ids from every runtime and cgroup version', () => {
  const forms = [
    `12:memory:/docker/${ID}`,
    `0::/system.slice/docker-${ID}.scope`,
    `11:cpu:/kubepods/burstable/pod1234-5678/${ID}`,
    `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod12.slice/cri-containerd-${ID}.scope`,
    `0::/kubepods.slice/kubepods-pod12.slice/crio-${ID}.scope`,
    `0::/machine.slice/libpod-${ID}.scope/container`,
    `0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${ID}.scope`,
  ];
  for (const f of forms) assert.equal(containerIdFromCgroup(`${f}\n`), ID, f);
  assert.equal(containerIdFromCgroup('0::/init.scope\n'), '');
  assert.equal(containerIdFromCgroup(`0::/machine.slice/libpod-conmon-${ID}.scope\n`), '');
  assert.equal(containerIdFromCgroup('garbage\n::\n'), '');
});

test('instrument/exclude rules: ports and ranges, exe glob, exclude wins, self never', () => {
  assert.deepEqual(parsePortRanges('80, 443,8000-8999'), [[80, 80], [443, 443], [8000, 8999]]);
  const p = (pid: number, exePath: string, ports: number[]) => ({ pid, exePath, ports: ports.map((port) => ({ port, protocol: 'tcp' as const })) });
  const rules = new SelectionRules(
    [{ open_ports: '80,8000-8999', name: 'web' }, { exe_path: '*/nginx' }],
    [{ exe_path: '/opt/*/bin/java', open_ports: '8080' }],
    42,
  );
  assert.equal(rules.shouldInstrument(p(1, '/usr/bin/app', [8500])), true);
  assert.equal(rules.shouldInstrument(p(1, '/usr/bin/app', [9000])), false);
  assert.equal(rules.shouldInstrument(p(1, '/usr/sbin/nginx', [])), true);
  assert.equal(rules.shouldInstrument(p(1, '/opt/x/bin/java', [8080])), false, 'exclude wins');
  assert.equal(rules.shouldInstrument(p(1, '/opt/x/bin/java', [8081])), true);
  assert.equal(rules.shouldInstrument(p(42, '/usr/sbin/nginx', [80])), false, 'never Telegen itself');
  assert.equal(rules.nameFor(p(1, '/usr/bin/app', [80])), 'web');
  const all = new SelectionRules([], [], 42);
  assert.equal(all.shouldInstrument(p(7, '', [])), true);
  assert.equal(all.shouldInstrument(p(42, '', [])), false);
});

test('a runtime whose libraries are mapped after exec is found on a later read', async () => {
  const late = mkdtempSync(join(tmpdir(), 'telegen-lateproc-'));
  try {
    writeFileSync(join(late, 'stat'), 'cpu 1 2 3\nbtime 1700000000\n');
    const d = join(late, '300');
    mkdirSync(join(d, 'fd'), { recursive: true });
    writeFileSync(join(d, 'stat'), statLine(300, 'launcher'));
    writeFileSync(join(d, 'cmdline'), '/opt/app/launcher\0');
    writeFileSync(join(d, 'maps'), '00400000-00401000 r-xp 0 08:01 7 /opt/app/launcher\n');
    symlinkSync('/opt/app/launcher', join(d, 'exe'));
    const scanner = new ProcScanner({ procRoot: late, passwdPath: join(late, 'passwd'), maxProcesses: 100, concurrency: 2 });
    assert.equal((await scanner.scan()).processes.get(300)?.runtime, 'unknown', 'read at exec: nothing mapped yet');
    writeFileSync(join(d, 'maps'), '00400000-00401000 r-xp 0 08:01 7 /opt/app/launcher\n7f00-7f01 r-xp 0 08:01 1 /usr/lib/jvm/java-17/lib/server/libjvm.so\n');
    assert.equal((await scanner.scan()).processes.get(300)?.runtime, 'java', 'the JVM mapped since is found');
  } finally {
    rmSync(late, { recursive: true, force: true });
  }
});
