// Exporter libraries the default configuration does not use are not loaded by an agent that does not need them
// (docs/resource-budgets.md: @grpc/grpc-js alone is ~2 MB of heap and several MB of RSS), and a reload to a
// configuration that needs them loads them and exports. Each test file runs in its own process, so the module
// cache below is this agent's. The gRPC receiver is imported only after the reload, so that it is the agent that
// loads grpc-js, not the test.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { Agent } from '../../src/agent/agent.js';
import type { ExportPipeline } from '../../src/agent/subsystem.js';
import { loadConfig } from '../../src/config/load.js';
import { captureLogger } from '../helpers/logger.js';
import { seqsOf, span, tmp, waitFor } from './helpers/fixtures.js';
import type { Receiver } from './helpers/receiver.js';

const loaded = (pkg: string): boolean =>
  Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes(`/node_modules/${pkg}/`));

/** A port nobody listens on right now (the receiver binds it after the reload). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('exporter modules are loaded when a configuration needs them', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  after(async () => { for (const c of cleanup.reverse()) await c(); });

  it('file exporter only: no grpc-js, no snappyjs; reload to OTLP/gRPC loads grpc-js and exports', async () => {
    const dir = tmp('lazy');
    const file = join(dir, 'telegen.yaml');
    const write = (otlp: Record<string, unknown>) => writeFileSync(file, stringify({
      shutdown_timeout: '3s',
      self_telemetry: { listen: '127.0.0.1:0' },
      agent: { ebpf: { enabled: false }, host_metrics: { enabled: false } },
      file_exporter: { directory: join(dir, 'output') },
      queue: { directory: join(dir, 'queue') },
      otlp: { insecure: true, retry: { initial_interval: '50ms', max_interval: '200ms', multiplier: 1.5 }, ...otlp },
    }));
    write({});
    const loadOptions = { configPath: file, env: {}, isRoot: true };
    const { config } = loadConfig(loadOptions);
    assert.equal(config.otlp.endpoint, '', 'the default configuration has no OTLP endpoint');
    let pipeline: ExportPipeline | undefined;
    const agent = new Agent({ config, configPath: file, loadOptions, logger: captureLogger('info').logger, extraSubsystems: (ctx) => { pipeline = ctx.sink as ExportPipeline; return []; } });
    await agent.start();
    cleanup.push(() => agent.stop());
    assert.equal(loaded('@grpc/grpc-js'), false, 'grpc-js is not loaded without an OTLP/gRPC endpoint');
    assert.equal(loaded('snappyjs'), false, 'snappyjs is not loaded without remote write');

    const port = await freePort();
    write({ endpoint: `127.0.0.1:${port}`, protocol: 'grpc', flush_interval: '50ms' });
    assert.deepEqual(await agent.reload(), { ok: true });
    assert.equal(loaded('@grpc/grpc-js'), true, 'the reload to OTLP/gRPC loaded grpc-js');

    const { startGrpcReceiver } = await import('./helpers/receiver.js');
    const rx: Receiver = await startGrpcReceiver({ port });
    cleanup.push(() => rx.close());
    assert.equal(pipeline!.push('traces', [span(1), span(2), span(3)]), 3);
    await waitFor(() => seqsOf(rx.received.map((r) => r.body)).length >= 3, 15_000, 'the spans at the gRPC receiver');
    assert.deepEqual(seqsOf(rx.received.map((r) => r.body)).sort((a, b) => a - b), [1, 2, 3]);
  });
});
