// OTLP common messages (KeyValue, AnyValue, Resource, InstrumentationScope) and the grouping every request
// shares: items → resource → scope, with resources identified by their attributes (not object identity), so
// items from the same process or host land under one ResourceX message.
import type { Resource, Scope } from '../../model/attributes.js';
import { newSlots, writeAttributes } from './attributes.js';
import type { ProtoWriter } from './writer.js';

const resourceSlots = newSlots();

export function writeResource(w: ProtoWriter, field: number, r: Resource): void {
  const at = w.begin(field);
  writeAttributes(w, 1, r.attributes, resourceSlots);
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
  // The usual batch: every item from one source (one resource object, one scope) — one group, no copying.
  const first = items[0];
  if (first !== undefined) {
    const res = first.resource;
    const scope = first.scope ?? defaultScope;
    let i = 1;
    for (; i < items.length; i++) {
      const s = items[i]!.scope ?? defaultScope;
      if (items[i]!.resource !== res || (s !== scope && (s.name !== scope.name || s.version !== scope.version))) break;
    }
    // The caller's array itself (groups are only read).
    if (i === items.length) return [{ resource: res, scopes: new Map([['', { scope, items: items as T[] }]]) }];
  }
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
