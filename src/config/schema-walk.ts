// Walks over the configuration schema next to a value: defaults, unknown keys, redaction and the docs
// all read the same annotations from the one schema.
import type { TSchema } from '@sinclair/typebox';

type Json = unknown;
type Obj = Record<string, Json>;
export const REDACTED = '<redacted>';

const isObj = (v: Json): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const props = (s: TSchema): Record<string, TSchema> | undefined =>
  s.type === 'object' && s.properties ? (s.properties as Record<string, TSchema>) : undefined;
const recordValue = (s: TSchema): TSchema | undefined =>
  s.patternProperties ? (Object.values(s.patternProperties)[0] as TSchema) : undefined;

/** A copy of `value` with every missing key filled from the schema's defaults (sections default to `{}`). */
export function applyDefaults(schema: TSchema, value: Json): Json {
  const p = props(schema);
  if (p) {
    const base: Json = value === undefined ? structuredClone(schema.default ?? {}) : value;
    if (!isObj(base)) return base; // a wrong type is reported by validation, not papered over
    const out: Obj = { ...base };
    for (const [k, sub] of Object.entries(p)) {
      const filled = applyDefaults(sub, out[k]);
      if (filled !== undefined) out[k] = filled;
    }
    return out;
  }
  if (value === undefined && schema.default !== undefined) return structuredClone(schema.default);
  if (schema.type === 'array' && Array.isArray(value) && schema.items) {
    return value.map((v) => applyDefaults(schema.items as TSchema, v));
  }
  return value;
}

export interface UnknownKey { path: (string | number)[]; key: string; suggestion?: string }

/** Keys present in `value` that the schema does not know, each with the closest known key when one is near. */
export function findUnknownKeys(schema: TSchema, value: Json, path: (string | number)[] = []): UnknownKey[] {
  const out: UnknownKey[] = [];
  const p = props(schema);
  if (p && isObj(value)) {
    for (const [k, v] of Object.entries(value)) {
      const sub = p[k];
      if (!sub) out.push({ path: [...path, k], key: k, suggestion: closest(k, Object.keys(p)) });
      else out.push(...findUnknownKeys(sub, v, [...path, k]));
    }
  } else if (schema.type === 'array' && Array.isArray(value) && schema.items) {
    value.forEach((v, i) => out.push(...findUnknownKeys(schema.items as TSchema, v, [...path, i])));
  }
  return out;
}

/** A deep copy with every secret replaced by "<redacted>" (empty secrets stay empty: nothing to hide). */
export function redact(schema: TSchema, value: Json): Json {
  if (schema.secret === true) return typeof value === 'string' && value !== '' ? REDACTED : value;
  const p = props(schema);
  if (p && isObj(value)) {
    const out: Obj = {};
    for (const [k, v] of Object.entries(value)) out[k] = p[k] ? redact(p[k], v) : v;
    return out;
  }
  const rv = recordValue(schema);
  if (rv && isObj(value)) {
    const out: Obj = {};
    for (const [k, v] of Object.entries(value)) out[k] = schema.secretValues === true ? REDACTED : redact(rv, v);
    return out;
  }
  if (schema.type === 'array' && Array.isArray(value) && schema.items) {
    return value.map((v) => redact(schema.items as TSchema, v));
  }
  return value;
}

/** Every secret string in a value (for log scrubbing and tests with canary values). */
export function secretValues(schema: TSchema, value: Json): string[] {
  if (schema.secret === true) return typeof value === 'string' && value ? [value] : [];
  const p = props(schema);
  if (p && isObj(value)) return Object.entries(value).flatMap(([k, v]) => (p[k] ? secretValues(p[k], v) : []));
  const rv = recordValue(schema);
  if (rv && isObj(value)) {
    return Object.values(value).flatMap((v) => (schema.secretValues === true && typeof v === 'string' && v ? [v] : secretValues(rv, v)));
  }
  if (schema.type === 'array' && Array.isArray(value) && schema.items) return value.flatMap((v) => secretValues(schema.items as TSchema, v));
  return [];
}

/** The sub-schema at a key path, or undefined. */
export function schemaAt(schema: TSchema, path: readonly (string | number)[]): TSchema | undefined {
  let s: TSchema | undefined = schema;
  for (const seg of path) {
    if (!s) return undefined;
    if (typeof seg === 'number') s = s.items as TSchema | undefined;
    else s = props(s)?.[seg] ?? recordValue(s);
  }
  return s;
}

/** Every leaf of the schema with its dotted path: the rows of docs/configuration.md. */
export function leaves(schema: TSchema, path = ''): Array<{ path: string; schema: TSchema }> {
  const p = props(schema);
  if (!p) return [{ path, schema }];
  return Object.entries(p).flatMap(([k, s]) => leaves(s, path ? `${path}.${k}` : k));
}

export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = levenshtein(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) { bestD = d; best = c; }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}
