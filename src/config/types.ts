// Schema building blocks shared by every component's config fragment. The annotations they add
// (`secret`, `secretValues`, `x-env`, `x-default-nonroot`) are read by redaction, env overrides and the docs.
import { Type, type TSchema, type TObject, type TProperties, type Static } from '@sinclair/typebox';

export { Type, type Static, type TSchema };

/** An object section. Its default is `{}` so nested defaults always fill in. */
export function Section<P extends TProperties>(properties: P, description: string): TObject<P> {
  return Type.Object(properties, { description, default: {} });
}

/** A closed set of strings (validated with `enum`, so errors list the allowed values). */
export function StringEnum<const T extends readonly string[]>(values: T, def: T[number], description: string) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], default: def, description });
}

/** A duration like `500ms`, `10s`, `1m30s`, `2h`. Parse with `parseDuration`. */
export function Duration(def: string, description: string) {
  return Type.String({ pattern: '^(\\d+(\\.\\d+)?(ms|s|m|h))+$', default: def, description, 'x-format': 'duration' });
}

/** A secret string: shown as "<redacted>" wherever the configuration is displayed or logged. */
export function Secret(description: string) {
  return Type.String({ default: '', description, secret: true });
}

/** A string map whose values are secrets (e.g. headers carrying Authorization). */
export function SecretMap(description: string) {
  return Type.Record(Type.String(), Type.String(), { default: {}, description, secretValues: true });
}

export const Bool = (def: boolean, description: string) => Type.Boolean({ default: def, description });
export const Int = (def: number, description: string, min = 0, max?: number) =>
  Type.Integer({ default: def, description, minimum: min, ...(max !== undefined ? { maximum: max } : {}) });
export const Str = (def: string, description: string) => Type.String({ default: def, description });
export const StrList = (def: string[], description: string) =>
  Type.Array(Type.String(), { default: def, description });

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds in a duration string validated by `Duration`. */
export function parseDuration(text: string): number {
  let total = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(m[1]) * UNITS[m[2]!]!;
  return total;
}
