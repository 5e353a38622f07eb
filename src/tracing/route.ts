// http.route: a low-cardinality template for a path. Configured patterns ("/users/{id}", "/static/*") win;
// otherwise a heuristic replaces segments that look like identifiers with "{id}".

interface CompiledPattern {
  template: string;
  segments: string[];
  /** A trailing "*" matches any remaining segments. */
  prefix: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NUMBER = /^-?\d+([.,]\d+)?$/;
const HEXLIKE = /^[0-9a-f]{12,}$/i;
const HAS_DIGIT = /\d/;
/** Bounds the work (and the label) for absurd paths; deeper segments collapse into "*". */
const MAX_SEGMENTS = 12;
const MAX_SEGMENT_LENGTH = 64;

function compile(template: string): CompiledPattern {
  const segments = splitPath(template);
  const prefix = segments.at(-1) === '*';
  if (prefix) segments.pop();
  return { template, segments, prefix };
}

function splitPath(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

function isParam(segment: string): boolean {
  return segment.startsWith('{') && segment.endsWith('}') || segment.startsWith(':');
}

/** Does a path segment look like an identifier (cardinality source) rather than a fixed name? */
export function looksLikeId(segment: string): boolean {
  if (NUMBER.test(segment) || UUID.test(segment) || HEXLIKE.test(segment)) return true;
  // Tokens, hashes, base64 ids: long and mixing digits with letters.
  if (segment.length >= 16 && HAS_DIGIT.test(segment)) return true;
  return segment.length > MAX_SEGMENT_LENGTH;
}

/** Paths remembered with their route; a server sees the same few paths over and over. */
const ROUTE_CACHE_SIZE = 2048;

export class RouteMatcher {
  private readonly patterns: CompiledPattern[];
  /** path → route; cleared when full (bounded; high-cardinality paths just miss). */
  private readonly cache = new Map<string, string>();

  constructor(patterns: readonly string[]) {
    // Most specific first: more literal segments win over parameters.
    this.patterns = patterns.map(compile).sort((a, b) => literalCount(b) - literalCount(a) || b.segments.length - a.segments.length);
  }

  /** The route for a path without its query. */
  route(path: string): string {
    const cached = this.cache.get(path);
    if (cached !== undefined) return cached;
    const route = this.compute(path);
    if (this.cache.size >= ROUTE_CACHE_SIZE) this.cache.clear();
    this.cache.set(path, route);
    return route;
  }

  private compute(path: string): string {
    const segments = splitPath(path);
    for (const p of this.patterns) if (matches(p, segments)) return p.template;
    return heuristic(segments);
  }
}

function literalCount(p: CompiledPattern): number {
  return p.segments.filter((s) => !isParam(s)).length;
}

function matches(p: CompiledPattern, segments: string[]): boolean {
  if (p.prefix ? segments.length < p.segments.length : segments.length !== p.segments.length) return false;
  return p.segments.every((s, i) => isParam(s) || s === segments[i]);
}

function heuristic(segments: string[]): string {
  if (segments.length === 0) return '/';
  const out: string[] = [];
  for (const [i, s] of segments.entries()) {
    if (i === MAX_SEGMENTS) {
      out.push('*');
      break;
    }
    out.push(looksLikeId(s) ? '{id}' : s);
  }
  return `/${out.join('/')}`;
}
