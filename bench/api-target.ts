// Child process for bench/api.ts: either the real Agent's API (auth on, every host source off) or a bare fastify
// hello-world (the peer). Prints the address on stdout and serves until killed.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { Agent } from '../src/agent/agent.js';
import { loadConfig } from '../src/config/load.js';
import { createLogger } from '../src/logging/logger.js';

const BENCH_TOKEN = process.env.BENCH_TOKEN ?? 'bench-token';

async function main(): Promise<void> {
  if (process.argv[2] === 'bare') {
    const app = Fastify({ logger: false });
    app.get('/healthz', async () => ({ status: 'ok' }));
    await app.listen({ host: '127.0.0.1', port: 0 });
    const a = app.server.address() as { port: number };
    process.stdout.write(`http://127.0.0.1:${a.port}\n`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'telegen-bench-api-'));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, `self_telemetry:\n  listen: "127.0.0.1:0"\n  auth:\n    enabled: true\n    bearer_token: "${BENCH_TOKEN}"\n    exempt_paths: []\n` +
    `queue:\n  directory: ${dir}/queue\nfile_exporter:\n  directory: ${dir}/out\nagent:\n  ebpf:\n    enabled: false\n  host_metrics:\n    enabled: false\ndiscovery:\n  scan_interval: 1h\n`);
  const loadOptions = { configPath: file, env: {}, isRoot: true };
  const { config } = loadConfig(loadOptions);
  const logger = createLogger({ level: 'warn', format: 'json', destination: { write: () => undefined } });
  const agent = new Agent({ config, configPath: file, loadOptions, logger });
  await agent.start();
  const status = agent.fullStatus().api!.status as { address: string };
  process.stdout.write(`${status.address}\n`);
}

void main();
