// Test fixtures: a pipeline context from a YAML snippet, and signal generators with unique ids.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { loadConfigText } from '../../../src/config/load.js';
import type { TelegenConfig } from '../../../src/config/schema.js';
import type { Resource } from '../../../src/model/attributes.js';
import type { LogRecord } from '../../../src/model/log.js';
import type { Metric } from '../../../src/model/metric.js';
import type { Span } from '../../../src/model/span.js';
import { SelfMetrics } from '../../../src/telemetry/self-metrics.js';

export const tmp = (prefix: string): string => mkdtempSync(join(tmpdir(), `telegen-${prefix}-`));

/** A full configuration: defaults + `overrides` (YAML mapping), queue and file output under a temp dir. */
export function testConfig(overrides: Record<string, unknown>, dir = tmp('export')): TelegenConfig {
  const section = (k: string) => (overrides[k] ?? {}) as Record<string, unknown>;
  const base = {
    shutdown_timeout: '3s',
    ...overrides,
    // Never the machine's default directories: every test gets its own.
    queue: { ...section('queue'), directory: join(dir, 'queue') },
    file_exporter: { ...section('file_exporter'), directory: join(dir, 'output') },
  };
  return loadConfigText(stringify(base), null, { env: {} }).config;
}

export const hostRes: Resource = { attributes: { 'host.name': 'test-host', 'service.name': 'telegen-test' } };

export function testContext(config: TelegenConfig) {
  return { config, logger: pino({ level: process.env.TEST_LOG ?? 'silent' }), metrics: new SelfMetrics(), resource: hostRes };
}

const ids = (n: number, bytes: number): Uint8Array => {
  const b = Buffer.alloc(bytes);
  b.writeUInt32BE(n >>> 0, bytes - 4);
  b.writeUInt32BE(0xabcdef01, 0);
  return b;
};

/** Span number `n` (its id encodes n; attribute seq = n). */
export function span(n: number, resource: Resource = hostRes): Span {
  const t = 1_700_000_000_000_000_000n + BigInt(n) * 1000n;
  return {
    traceId: ids(n, 16), spanId: ids(n + 1, 8), name: `GET /items/${n}`, kind: 2,
    startTimeUnixNano: t, endTimeUnixNano: t + 5_000_000n,
    attributes: { seq: n, 'http.request.method': 'GET', 'http.response.status_code': 200 },
    status: { code: 0 }, resource, scope: { name: 'telegen/http', version: '0.1.0' },
  };
}

export function gauge(n: number, value = n): Metric {
  const now = BigInt(Date.now()) * 1_000_000n;
  return {
    type: 'gauge', name: 'test_gauge', description: 'a gauge', unit: '1', resource: hostRes, scope: { name: 'telegen/test' },
    points: [{ attributes: { seq: n }, startTimeUnixNano: now, timeUnixNano: now, value }],
  };
}

export function logRecord(n: number): LogRecord {
  const t = 1_700_000_000_000_000_000n + BigInt(n);
  return { timeUnixNano: t, observedTimeUnixNano: t, severityNumber: 9, severityText: 'INFO', body: `line ${n}`, attributes: { seq: n }, resource: hostRes, scope: { name: 'telegen/logs' } };
}

/** Every `seq` attribute of every span in the received requests. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function seqsOf(bodies: any[], signal: 'traces' | 'logs' = 'traces'): number[] {
  const out: number[] = [];
  for (const b of bodies) {
    for (const r of b[signal === 'traces' ? 'resourceSpans' : 'resourceLogs'] ?? []) {
      for (const s of r[signal === 'traces' ? 'scopeSpans' : 'scopeLogs'] ?? []) {
        for (const x of s[signal === 'traces' ? 'spans' : 'logRecords'] ?? []) {
          // eslint-disable-next-line @typescript-eslint/no-explicit-any
          const a = x.attributes.find((kv: any) => kv.key === 'seq');
          out.push(Number(a.value.intValue));
        }
      }
    }
  }
  return out;
}

export async function waitFor(cond: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
