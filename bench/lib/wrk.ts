// wrk (C, cheap: the load tool must not be what the benchmark measures) at a fixed rate or flat out, one thread.
// A fixed rate is a per-connection pause between requests (Lua delay()): each connection does request → response
// → pause, the pause being what is left of its share of the period. The Lua done() hook reports JSON.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface WrkResult { rps: number; requests: number; p99: number; errors: number }
/** `rate` 0: flat out. p99 in ms. */
export type WrkLoader = (rate: number, seconds: number) => Promise<WrkResult>;

export function wrkLoader(url: string, dir: string, connections: number): WrkLoader {
  const script = join(dir, 'wrk-report.lua');
  writeFileSync(script, `
local d = tonumber(os.getenv("WRK_DELAY_MS") or "0")
if d > 0 then function delay() return d end end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"duration_us":%d,"errors":%d,"p99_us":%d}\\n', summary.requests,
    summary.duration, e.connect + e.read + e.write + e.timeout + e.status, latency:percentile(99)))
end`);
  return (rate, seconds) => new Promise((resolve, reject) => {
    const delayMs = rate > 0 ? Math.max(1, Math.round((connections * 1000) / rate - 0.2)) : 0;
    const p = spawn('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '-s', script, url], {
      stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, WRK_DELAY_MS: String(delayMs) },
    });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('close', () => {
      try {
        const r = JSON.parse(out.trim().split('\n').at(-1)!) as { requests: number; duration_us: number; errors: number; p99_us: number };
        resolve({ rps: r.requests / (r.duration_us / 1e6), requests: r.requests, p99: r.p99_us / 1000, errors: r.errors });
      } catch (e) {
        reject(new Error(`wrk output: ${out}: ${(e as Error).message}`));
      }
    });
  });
}
