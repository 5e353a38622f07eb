// OTLP common messages (KeyValue, AnyValue, Resource, InstrumentationScope) and the grouping every request
// shares: items → resource → scope, with resources identified by their attributes (not object identity), so
// items from the same process or host land under one ResourceX message.
import type { AttributeValue, Attributes, Resource, Scope } from '../../model/attributes.js';
import type { ProtoWriter } from './writer.js';

/** AnyValue (common.proto): string 1, bool 2, int 3, double 4, array 5, kvlist 6, bytes 7. */
export function writeAnyValue(w: ProtoWriter, field: number, v: AttributeValue): void {
  const at = w.begin(field);
  writeAnyValueFields(w, v);
  w.end(at);
}

function writeAnyValueFields(w: ProtoWriter, v: AttributeValue): void {
  switch (typeof v) {
    case 'string': w.string(1, v); return;
    case 'boolean': w.bool(2, v); return;
    // An integral JS number is sent as int_value, anything else as double_value.
    case 'number': if (Number.isSafeInteger(v)) w.int64(3, v); else w.double(4, v); return;
    case 'bigint': w.int64(3, v); return;
    default: {
      const arr = w.begin(5);
      for (const x of v) writeAnyValue(w, 1, x);
      w.end(arr);
    }
  }
}

// Telemetry attributes repeat a lot (http.request.method=GET, server.port=8080, host.name=…): the encoded
// KeyValue of a (key, scalar value) pair is kept and copied on the next occurrence instead of being encoded
// again. Bounded: at most MAX_KEYS keys, MAX_VALUES values per key (a high-cardinality key such as url.path
// simply stops adding), short strings only. A miss costs one Map lookup.
const MAX_KEYS = 512;
const MAX_VALUES = 64;
const MAX_CACHED_CHARS = 64;
type Scalar = string | number | boolean;
const kvCache = new Map<string, Map<Scalar, Uint8Array>>();

/** repeated KeyValue at `field` (key 1, value 2). */
export function writeAttributes(w: ProtoWriter, field: number, attrs: Attributes): void {
  for (const key in attrs) {
    const v = attrs[key];
    if (v === undefined) continue;
    const t = typeof v;
    if ((t === 'string' ? (v as string).length <= MAX_CACHED_CHARS : t === 'number' || t === 'boolean') && key.length <= MAX_CACHED_CHARS) {
      let values = kvCache.get(key);
      if (values === undefined && kvCache.size < MAX_KEYS) {
        values = new Map();
        kvCache.set(key, values);
      }
      if (values !== undefined) {
        const hit = values.get(v as Scalar);
        if (hit !== undefined) {
          w.tag(field, 2);
          w.raw(hit);
          continue;
        }
        const at = writeKeyValue(w, field, key, v);
        // A copy of the length-prefixed message (without its tag, so any field number can reuse it).
        if (values.size < MAX_VALUES) values.set(v as Scalar, new Uint8Array(w.buf.subarray(at, w.pos)));
        continue;
      }
    }
    writeKeyValue(w, field, key, v);
  }
}

/** One KeyValue; returns where its length prefix starts. */
function writeKeyValue(w: ProtoWriter, field: number, key: string, v: AttributeValue): number {
  const at = w.begin(field);
  w.string(1, key);
  writeAnyValue(w, 2, v);
  w.end(at);
  return at;
}

export function writeResource(w: ProtoWriter, field: number, r: Resource): void {
  const at = w.begin(field);
  writeAttributes(w, 1, r.attributes);
  w.end(at);
}

export function writeScope(w: ProtoWriter, field: number, s: Scope): void {
  const at = w.begin(field);
  if (s.name) w.string(1, s.name);
  if (s.version) w.string(2, s.version);
  w.end(at);
}

const resourceKeys = new WeakMap<Resource, string>();

/** A stable identity for a resource's content, computed once per resource object. */
export function resourceKey(r: Resource): string {
  let k = resourceKeys.get(r);
  if (k === undefined) {
    k = JSON.stringify(Object.entries(r.attributes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
    resourceKeys.set(r, k);
  }
  return k;
}

export interface ScopeGroup<T> { scope: Scope; items: T[] }
export interface ResourceGroup<T> { resource: Resource; scopes: Map<string, ScopeGroup<T>> }

/** Items grouped by resource content, then by scope (name + version), in first-seen order. */
export function groupByResource<T extends { resource: Resource; scope?: Scope }>(items: readonly T[], defaultScope: Scope): ResourceGroup<T>[] {
  const groups = new Map<string, ResourceGroup<T>>();
  let lastRes: Resource | undefined;
  let lastGroup: ResourceGroup<T> | undefined;
  // Consecutive items of one source share their scope: skip the key and lookup while it repeats.
  let lastScope: Scope | undefined;
  let lastScopeGroup: ScopeGroup<T> | undefined;
  for (const item of items) {
    let g: ResourceGroup<T> | undefined;
    if (item.resource === lastRes) g = lastGroup;
    else {
      const key = resourceKey(item.resource);
      g = groups.get(key);
      if (!g) {
        g = { resource: item.resource, scopes: new Map() };
        groups.set(key, g);
      }
      lastRes = item.resource;
      lastGroup = g;
      lastScope = undefined;
    }
    const scope = item.scope ?? defaultScope;
    // Same object, or the same name and version (sources may build the scope per item).
    if (scope === lastScope || (lastScope !== undefined && scope.name === lastScope.name && scope.version === lastScope.version)) {
      lastScopeGroup!.items.push(item);
      continue;
    }
    const sk = scope.version ? `${scope.name}\u0000${scope.version}` : scope.name;
    let sg = g!.scopes.get(sk);
    if (!sg) {
      sg = { scope, items: [] };
      g!.scopes.set(sk, sg);
    }
    lastScope = scope;
    lastScopeGroup = sg;
    sg.items.push(item);
  }
  return [...groups.values()];
}
