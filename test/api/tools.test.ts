// The real neighbours: Prometheus 2.42 scrapes /metrics (target up == 1), promtool checks the exposition, and
// `go tool pprof -top` reads the heap and CPU profiles.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiConfig, startAgent, type TestAgent } from './helpers.js';
import { freePort } from '../helpers/net.js';

const have = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;

describe('Prometheus and promtool', () => {
  let t: TestAgent;
  let prom: ChildProcess | undefined;
  before(async () => { t = await startAgent(apiConfig()); });
  after(async () => {
    prom?.kill('SIGKILL');
    await t?.stop();
  });

  test('promtool check metrics is clean', { skip: !have('promtool', ['--version']) && 'promtool not installed' }, async () => {
    await fetch(`${t.base}/status`); // some api_requests series too
    const body = await (await fetch(`${t.base}/metrics`)).text();
    const r = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    assert.equal(`${r.stdout}${r.stderr}`.trim(), '', 'no lint findings');
  });

  test('a real Prometheus scrapes /metrics: up == 1 and telegen_* series arrive', { skip: !have('prometheus', ['--version']) && 'prometheus not installed', timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'telegen-prom-'));
    const target = new URL(t.base).host;
    writeFileSync(join(dir, 'prometheus.yml'), `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: telegen\n    scrape_interval: 1s\n    static_configs:\n      - targets: ["${target}"]\n`);
    const port = await freePort();
    prom = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
    const q = async (expr: string) => {
      const r = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(expr)}`);
      return (await r.json() as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }).data.result;
    };
    const deadline = Date.now() + 40_000;
    let up: string | undefined;
    let lastError = '';
    while (Date.now() < deadline) {
      try {
        up = (await q('up{job="telegen"}'))[0]?.value[1];
        if (up === '1' && (await q('telegen_process_resident_memory_bytes')).length > 0) break;
        const targets = await (await fetch(`http://127.0.0.1:${port}/api/v1/targets`)).json() as { data: { activeTargets: Array<{ lastError: string }> } };
        lastError = targets.data.activeTargets[0]?.lastError ?? '';
      } catch { /* not up yet */ }
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(up, '1', `target up (last scrape error: ${lastError})`);
    const rss = await q('telegen_process_resident_memory_bytes');
    assert.ok(Number(rss[0]!.value[1]) > 1e6);
    const reqs = await q('telegen_api_requests_total{route="/metrics",code="200"}');
    assert.ok(reqs.length === 1 && Number(reqs[0]!.value[1]) >= 1, 'the scrapes themselves are counted');
  });
});

describe('go tool pprof', { skip: !have('go', ['version']) && 'go not installed' }, () => {
  let t: TestAgent;
  before(async () => { t = await startAgent(apiConfig('debug:\n  enabled: true')); });
  after(async () => { await t?.stop(); });

  const pprofTop = (buf: Buffer, name: string) => {
    const file = join(mkdtempSync(join(tmpdir(), 'telegen-pprof-')), name);
    writeFileSync(file, buf);
    return execFileSync('go', ['tool', 'pprof', '-top', file], { encoding: 'utf8', env: { ...process.env, HOME: tmpdir(), GOFLAGS: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  };

  test('heap profile opens in go tool pprof', async () => {
    const keep: unknown[] = [];
    for (let i = 0; i < 20_000; i++) keep.push({ payload: 'x'.repeat(64) + i });
    const r = await fetch(`${t.base}/debug/pprof/heap`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/octet-stream');
    const out = pprofTop(Buffer.from(await r.arrayBuffer()), 'heap.pprof');
    assert.match(out, /Type: inuse_space/);
    assert.match(out, /flat%/);
    assert.ok(keep.length > 0);
  });

  test('CPU profile (?seconds=1) opens in go tool pprof; the hot frame dominates', async () => {
    const pending = fetch(`${t.base}/debug/pprof/profile?seconds=1`);
    await new Promise((r) => setTimeout(r, 50));
    const burned = burnCpu(800);
    const busy = await fetch(`${t.base}/debug/pprof/profile?seconds=1`);
    assert.equal(busy.status, 503, 'one CPU profile at a time');
    assert.equal((await busy.json() as { error: string }).error, 'service_unavailable');
    const r = await pending;
    assert.equal(r.status, 200);
    const out = pprofTop(Buffer.from(await r.arrayBuffer()), 'cpu.pprof');
    assert.match(out, /Type: (cpu|wall)/);
    assert.ok(burned > 0);
    // ~800 ms of the ~1 s profile were spent in one JavaScript frame: the top line holds most of the samples.
    const top = /^\s*[\d.]+m?s\s+([\d.]+)%/m.exec(out.split('flat%')[1] ?? '');
    assert.ok(top && Number(top[1]) > 40, `a hot frame dominates:\n${out.slice(0, 600)}`);
  });
});

function burnCpu(ms: number): number {
  const end = Date.now() + ms;
  let x = 0;
  while (Date.now() < end) x += Math.sqrt(x + 1);
  return x;
}

