// npm run bench:api — requests/s and p99 of /healthz, /status and /metrics on the real API (auth on, so every
// request pays the bearer check), against a bare fastify hello-world in the same run as the peer. The server runs
// in its own process (one core); autocannon drives it from this one.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { writeBenchSection } from './lib/report.js';

const DURATION_S = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 50;
const BENCH_TOKEN = 'bench-token-0123456789';

function startTarget(mode: 'agent' | 'bare'): Promise<{ proc: ChildProcess; base: string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'bench/api-target.ts', mode], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, BENCH_TOKEN } });
  return new Promise((resolve, reject) => {
    createInterface({ input: proc.stdout! }).once('line', (base) => resolve({ proc, base: base.trim() }));
    proc.once('exit', (c) => reject(new Error(`${mode} target exited ${c}`)));
  });
}

interface Row { name: string; rps: number; p99: number; p50: number; errors: number; non2xx: number }

async function load(name: string, url: string, headers: Record<string, string>): Promise<Row> {
  const r = await autocannon({ url, connections: CONNECTIONS, duration: DURATION_S, headers });
  return { name, rps: r.requests.average, p99: r.latency.p99, p50: r.latency.p50, errors: r.errors, non2xx: r.non2xx };
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const bare = await startTarget('bare');
  try {
    await load('warm-up', `${bare.base}/healthz`, {});
    rows.push(await load('bare fastify GET /healthz (peer)', `${bare.base}/healthz`, {}));
  } finally { bare.proc.kill('SIGKILL'); }
  const agent = await startTarget('agent');
  const auth = { authorization: `Bearer ${BENCH_TOKEN}` };
  try {
    await load('warm-up', `${agent.base}/healthz`, auth);
    for (const p of ['/healthz', '/status', '/metrics']) rows.push(await load(`telegen GET ${p} (auth on)`, `${agent.base}${p}`, auth));
  } finally { agent.proc.kill('SIGKILL'); }

  const peer = rows[0]!.rps;
  const table = [
    '| Endpoint | req/s | p50 ms | p99 ms | ratio to peer | errors / non-2xx |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.name} | ${Math.round(r.rps)} | ${r.p50} | ${r.p99} | ${(r.rps / peer).toFixed(2)} | ${r.errors} / ${r.non2xx} |`),
  ].join('\n');
  const healthz = rows[1]!.rps;
  const md = `autocannon, ${CONNECTIONS} connections, ${DURATION_S} s per row, server in its own single-threaded process on a 2-core machine ` +
    `shared with other engineers' work (figures are noisy). Aim: /healthz ≥ 15k req/s with auth on — ${healthz >= 15000 ? 'met' : 'NOT met'} ` +
    `(${Math.round(healthz)} req/s).\n\n${table}\n\n` +
    '/status validates three subsystem sections against their schemas per request; /metrics renders the whole prom-client registry (~100 series) per request.';
  writeBenchSection('api', md);
  process.stdout.write(`${table}\n`);
}

void main();
