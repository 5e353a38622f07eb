import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { stringify } from 'yaml';
import { loadConfigText } from '../../src/config/load.js';
import { configSchema } from '../../src/config/schema.js';
import { leaves, redact, secretValues, REDACTED } from '../../src/config/schema-walk.js';
import { createLogger } from '../../src/logging/logger.js';

// Put a distinct canary in EVERY secret field the schema declares, so a secret added later is covered too.
function canaryConfig() {
  const secretLeaves = leaves(configSchema).filter((l) => l.schema.secret || l.schema.secretValues);
  assert.ok(secretLeaves.length >= 3, 'bearer token, otlp headers and remote-write headers are secrets');
  const canaries: string[] = [];
  const doc: Record<string, unknown> = {};
  secretLeaves.forEach(({ path, schema }, i) => {
    const canary = `CANARY-${i}-${Math.random().toString(36).slice(2)}`;
    canaries.push(canary);
    const segs = path.split('.');
    let node = doc;
    for (const s of segs.slice(0, -1)) node = (node[s] ??= {}) as Record<string, unknown>;
    node[segs.at(-1)!] = schema.secretValues ? { authorization: `Bearer ${canary}` } : canary;
  });
  const { config } = loadConfigText(stringify(doc), 'c.yaml', { env: {}, isRoot: true });
  return { config, canaries };
}

test('every secret renders as <redacted> wherever the configuration is shown', () => {
  const { config, canaries } = canaryConfig();
  const shown = JSON.stringify(redact(configSchema, config));
  for (const c of canaries) assert.ok(!shown.includes(c), `canary ${c} leaked`);
  assert.equal((redact(configSchema, config) as typeof config).self_telemetry.auth.bearer_token, REDACTED);
  assert.equal((redact(configSchema, config) as typeof config).otlp.headers.authorization, REDACTED);
  assert.ok(!stringify(redact(configSchema, config)).includes('CANARY'));
});

test('non-secret values and empty secrets are shown as they are', () => {
  const { config } = loadConfigText('otlp:\n  endpoint: col:4317\n', 'c.yaml', { env: {}, isRoot: true });
  const r = redact(configSchema, config) as typeof config;
  assert.equal(r.otlp.endpoint, 'col:4317');
  assert.equal(r.self_telemetry.auth.bearer_token, '');
});

test('the logger scrubs config secrets from every line, even when code logs them by mistake', () => {
  const { config, canaries } = canaryConfig();
  let out = '';
  const destination = new Writable({ write(chunk, _e, cb) { out += String(chunk); cb(); } });
  const logger = createLogger({ level: 'debug', format: 'json', destination: destination as never, secrets: () => secretValues(configSchema, config) });
  logger.info({ config }, 'oops, the raw config');
  logger.error(`token was ${canaries[0]}`);
  assert.ok(out.length > 0);
  for (const c of canaries) assert.ok(!out.includes(c), `canary ${c} leaked into logs`);
  assert.match(out, /<redacted>/);
});
