// Loads the effective configuration: file (or embedded defaults) → ${VAR} expansion → environment → flags →
// defaults → validation. Every problem comes back with its key path and where it came from (file:line:column,
// env VAR or flag), and all problems are reported at once. The result is deep-frozen.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { TSchema } from '@sinclair/typebox';
import { configSchema, type TelegenConfig } from './schema.js';
import { applyDefaults, findUnknownKeys, leaves, schemaAt } from './schema-walk.js';
import { expandVariables } from './expand.js';
import { ConfigError, pathToString, type ConfigIssue } from './issues.js';
import { applyOverride, envOverrides, flagOverrides, type ConfigFlags } from './overrides.js';

export const DEFAULT_CONFIG_PATH = '/etc/telegen/config.yaml';

export interface LoadOptions extends ConfigFlags {
  /** `--config/-c`. */
  configPath?: string;
  env?: NodeJS.ProcessEnv;
  /** Unknown keys become errors. */
  strict?: boolean;
  /** For tests: pretend to be (not) root when resolving root-dependent defaults. */
  isRoot?: boolean;
  cwd?: string;
}

export interface LoadedConfig {
  config: TelegenConfig;
  warnings: ConfigIssue[];
  /** The file read, or null for the embedded defaults. */
  path: string | null;
}

const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
const validateSchema = ajv.compile(configSchema);

/** Which file to read: --config, else TELEGEN_CONFIG_FILE, else /etc/telegen/config.yaml if present, else none. */
export function resolveConfigPath(flag: string | undefined, env: NodeJS.ProcessEnv, systemPath = DEFAULT_CONFIG_PATH): string | null {
  if (flag) return flag;
  if (env.TELEGEN_CONFIG_FILE) return env.TELEGEN_CONFIG_FILE;
  return existsSync(systemPath) ? systemPath : null;
}

export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const path = resolveConfigPath(opts.configPath, env);
  let text = '';
  if (path !== null) {
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new ConfigError([{ severity: 'error', path: '', message: `cannot read configuration file: ${(e as Error).message}`, location: path }]);
    }
  }
  return loadConfigText(text, path, opts);
}

/** The same pipeline over text already in memory (reload, tests). */
export function loadConfigText(text: string, path: string | null, opts: LoadOptions = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const file = path ?? '<embedded>';
  const issues: ConfigIssue[] = [];
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  for (const err of doc.errors) {
    const pos = lines.linePos(err.pos[0]);
    issues.push({ severity: 'error', path: '', message: `YAML syntax: ${err.message.split('\n')[0]}`,
      location: `${file}:${pos.line}:${pos.col}`, line: pos.line, column: pos.col });
  }
  if (issues.length) throw new ConfigError(issues);
  issues.push(...expandVariables(doc, env, lines, file));

  const js: unknown = doc.toJS() ?? {};
  if (typeof js !== 'object' || Array.isArray(js)) {
    throw new ConfigError([{ severity: 'error', path: '', message: 'the configuration must be a mapping of keys', found: describe(js), location: `${file}:1:1` }]);
  }
  const raw = js as Record<string, unknown>;
  const where = (p: (string | number)[], atKey = false) => locate(doc, lines, file, p, atKey);

  // A misspelling of a known key is an error: the setting it meant would be silently ignored. An unknown key
  // with no near match is a warning (a newer file on an older agent), and an error under --strict.
  for (const u of findUnknownKeys(configSchema, raw)) {
    const loc = where(u.path, true);
    issues.push({ severity: opts.strict || u.suggestion ? 'error' : 'warning', path: pathToString(u.path),
      message: `unknown key "${u.key}"${u.suggestion ? `; did you mean "${u.suggestion}"?` : ''}`, ...loc });
  }

  const origins = new Map<string, string>();
  for (const o of [...envOverrides(env, issues), ...flagOverrides(opts)]) {
    applyOverride(raw, o);
    origins.set(o.path.join('.'), o.origin);
  }

  const full = applyDefaults(configSchema, raw) as Record<string, unknown>;
  applyRootDefaults(full, raw, opts.isRoot ?? process.getuid?.() === 0, opts.cwd ?? process.cwd());

  if (!validateSchema(full)) {
    // A key that already has an error (e.g. its ${VAR} was undefined) is not reported a second time.
    const reported = new Set(issues.filter((i) => i.severity === 'error').map((i) => i.path));
    for (const e of collapse(validateSchema.errors ?? [])) {
      const p = e.path;
      if (reported.has(pathToString(p))) continue;
      const origin = origins.get(p.join('.'));
      const sub = schemaAt(configSchema, p);
      issues.push({
        severity: 'error', path: pathToString(p), message: 'invalid value',
        expected: sub ? expected(sub) : e.message, found: describe(e.value),
        ...(origin ? { location: origin } : where(p)),
      });
    }
  }
  const errors = issues.filter((i) => i.severity === 'error');
  if (errors.length) throw new ConfigError(issues);
  return { config: deepFreeze(full) as TelegenConfig, warnings: issues, path };
}

/** The embedded default configuration (no file, no environment). */
export function defaultConfig(): TelegenConfig {
  return loadConfigText('', null, { env: {} }).config;
}

/** Keys whose default depends on running as root (e.g. queue.directory) get the non-root default when not root. */
function applyRootDefaults(full: Record<string, unknown>, raw: Record<string, unknown>, isRoot: boolean, cwd: string) {
  if (isRoot) return;
  for (const leaf of leaves(configSchema)) {
    const alt = leaf.schema['x-default-nonroot'];
    if (typeof alt !== 'string') continue;
    const segs = leaf.path.split('.');
    if (getPath(raw, segs) !== undefined) continue;
    setPath(full, segs, resolve(cwd, alt));
  }
}

interface Collapsed { path: (string | number)[]; value: unknown; message: string }

/** One error per key path (a union branch mismatch yields several raw Ajv errors for one mistake). */
function collapse(errors: ErrorObject[]): Collapsed[] {
  const byPath = new Map<string, Collapsed>();
  for (const e of errors) {
    const segs = e.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
      .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
    const key = segs.join('\u0000');
    if (!byPath.has(key)) byPath.set(key, { path: segs, value: e.data, message: e.message ?? 'invalid' });
  }
  // Drop parents whose child already carries the error.
  const keys = [...byPath.keys()];
  return [...byPath.entries()].filter(([k]) => !keys.some((o) => o !== k && o.startsWith(k + '\u0000') && k !== ''))
    .map(([, v]) => v);
}

/** What a schema accepts, in words. */
export function expected(s: TSchema): string {
  if (Array.isArray(s.enum)) return `one of ${s.enum.map((v: unknown) => JSON.stringify(v)).join(', ')}`;
  if (Array.isArray(s.anyOf)) return (s.anyOf as TSchema[]).map(expected).join(' or ');
  if (s.const !== undefined) return JSON.stringify(s.const);
  switch (s.type) {
    case 'boolean': return 'a boolean (true or false)';
    case 'integer': return `an integer${bounds(s)}`;
    case 'number': return `a number${bounds(s)}`;
    case 'string':
      if (s['x-format'] === 'duration') return 'a duration such as 500ms, 10s, 1m or 1h';
      return s.pattern ? `a string matching /${s.pattern}/` : 'a string';
    case 'array': return 'a list';
    case 'object': return 'a mapping';
    default: return 'a valid value';
  }
}

function bounds(s: TSchema): string {
  const lo = s.minimum !== undefined ? ` >= ${s.minimum}` : '';
  const hi = s.maximum !== undefined ? `${lo ? ' and' : ''} <= ${s.maximum}` : '';
  return lo + hi;
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `"${v.length > 60 ? v.slice(0, 57) + '...' : v}" (string)`;
  return `${String(v)} (${typeof v})`;
}

/** file:line:column of a key path in the document (the key itself when `atKey`, else its value). */
function locate(doc: Document, lines: LineCounter, file: string, path: (string | number)[], atKey: boolean) {
  let node: unknown = doc.contents;
  let keyNode: Node | undefined;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && String(it.key.value) === String(seg));
      if (!pair) break;
      keyNode = pair.key as Node;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      keyNode = undefined;
      node = node.items[seg];
    } else {
      break;
    }
  }
  const target = (atKey && keyNode) || (node as Node | undefined) || keyNode;
  const offset = target?.range?.[0];
  if (offset === undefined || path.length === 0) return {};
  const pos = lines.linePos(offset);
  return { location: `${file}:${pos.line}:${pos.col}`, line: pos.line, column: pos.col };
}

function getPath(obj: unknown, segs: string[]): unknown {
  let cur: unknown = obj;
  for (const s of segs) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[s];
  }
  return cur;
}

function setPath(obj: Record<string, unknown>, segs: string[], value: unknown) {
  let cur = obj;
  for (const s of segs.slice(0, -1)) cur = cur[s] as Record<string, unknown>;
  cur[segs[segs.length - 1]!] = value;
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const child of Object.values(v)) deepFreeze(child);
  }
  return v;
}
