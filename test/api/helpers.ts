// In-process Agent with the real API on an ephemeral loopback port, and a validator that checks every live
// response against the API's own /openapi.json.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';
import { Agent } from '../../src/agent/agent.js';
import type { Subsystem, SubsystemContext } from '../../src/agent/subsystem.js';
import { loadConfig } from '../../src/config/load.js';
import { RecentLogs } from '../../src/logging/logger.js';
import { createLogger } from '../../src/logging/logger.js';
import type { ApiSubsystem } from '../../src/api/api-subsystem.js';
import { quietConfig } from '../helpers/config.js';

/** Every host source off; the API on 127.0.0.1:0 (see test/helpers/config.ts). */
export const apiConfig = quietConfig;

export interface TestAgent {
  agent: Agent;
  base: string;
  file: string;
  dir: string;
  logs: RecentLogs;
  /** Rewrite the config file (with $DIR substituted). */
  write(yaml: string): void;
  stop(): Promise<void>;
}

export async function startAgent(yaml: string, extra?: (ctx: SubsystemContext) => Subsystem[], env: NodeJS.ProcessEnv = {}): Promise<TestAgent> {
  const dir = mkdtempSync(join(tmpdir(), 'telegen-api-'));
  const file = join(dir, 'config.yaml');
  const write = (y: string) => writeFileSync(file, y.replaceAll('$DIR', dir));
  write(yaml);
  const loadOptions = { configPath: file, env, isRoot: true };
  const { config } = loadConfig(loadOptions);
  const logs = new RecentLogs(200);
  const logger = createLogger({ level: 'info', format: 'json', recent: logs, destination: { write: () => undefined } });
  const agent = new Agent({ config, configPath: file, loadOptions, logger, recentLogs: logs, extraSubsystems: extra });
  await agent.start();
  return {
    agent, file, dir, logs, write,
    get base() { return apiAddress(agent); },
    stop: () => agent.stop(),
  };
}

/** The API's current address (it moves when `listen` is reloaded). */
export function apiAddress(agent: Agent): string {
  const status = agent.fullStatus().api?.status as { address?: string } | undefined;
  assert.ok(status?.address, 'the api subsystem is listening');
  return status.address;
}

export type { ApiSubsystem };

// ---- OpenAPI response validation ----

type Json = Record<string, unknown>;
interface Op { responses: Record<string, { content?: Record<string, { schema: Json }> }> }

export class OpenApiValidator {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  private readonly cache = new Map<string, ValidateFunction>();
  checked = 0;

  constructor(readonly doc: Json) {
    this.ajv.addSchema({ ...(doc.components as Json), $id: 'root' } as Json, 'components-holder');
  }

  /** Asserts that a live response (status, content type, body) is one the document describes. */
  check(method: string, path: string, res: { status: number; contentType: string | null; body: string }): void {
    const paths = this.doc.paths as Record<string, Record<string, Op>>;
    const op = paths[path]?.[method.toLowerCase() === 'head' ? 'get' : method.toLowerCase()];
    // Unknown paths and 405s have no operation: their body must still be the standard error.
    const resp = op ? op.responses[String(res.status)] ?? op.responses.default : undefined;
    if (op) assert.ok(resp, `${method} ${path}: status ${res.status} is documented`);
    if (res.status === 204 || method === 'HEAD') return;
    const content = resp?.content ?? { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } };
    const type = (res.contentType ?? '').split(';')[0]!.trim();
    const entry = Object.entries(content).find(([t]) => t.split(';')[0]!.trim() === type);
    assert.ok(entry, `${method} ${path} ${res.status}: content type ${res.contentType} is documented (${Object.keys(content).join(', ')})`);
    const schema = entry[1].schema;
    const key = JSON.stringify(schema);
    let v = this.cache.get(key);
    if (!v) {
      v = this.ajv.compile(rewriteRefs(schema));
      this.cache.set(key, v);
    }
    const value: unknown = type === 'application/json' ? JSON.parse(res.body) : res.body;
    assert.ok(v(value), `${method} ${path} ${res.status} matches the document: ${this.ajv.errorsText(v.errors)}\n${res.body.slice(0, 500)}`);
    this.checked++;
  }
}

/** `#/components/schemas/X` → the registered components holder. */
function rewriteRefs(schema: Json): Json {
  return JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"root#/')) as Json;
}

export interface Res { status: number; headers: Headers; contentType: string | null; body: string }

/** fetch + read the body + validate against the document. */
export async function call(v: OpenApiValidator | undefined, base: string, path: string, init: RequestInit = {}): Promise<Res> {
  const r = await fetch(base + path, init);
  const body = await r.text();
  const res = { status: r.status, headers: r.headers, contentType: r.headers.get('content-type'), body };
  v?.check(init.method ?? 'GET', path.split('?')[0]!, res);
  return res;
}

export async function validatorFor(base: string): Promise<OpenApiValidator> {
  const r = await fetch(`${base}/openapi.json`);
  assert.equal(r.status, 200);
  return new OpenApiValidator(await r.json() as Json);
}
