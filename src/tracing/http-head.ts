// HTTP/1.x message heads (start line + header fields), parsed strictly enough that binary, TLS or other
// protocols never pass for HTTP: a known version string, a token method, a 3-digit status, token header names.

export interface HttpHead {
  kind: 'request' | 'response';
  /** "1.0" or "1.1". */
  version: string;
  method?: string;
  target?: string;
  status?: number;
  /** Only the header fields the tracer uses, lower-cased names; the rest are validated and dropped. */
  headers: KeptHeaders;
}

export interface KeptHeaders {
  host?: string;
  userAgent?: string;
  traceparent?: string;
  tracestate?: string;
  contentLength?: number;
  chunked?: boolean;
  expectContinue?: boolean;
  upgrade?: string;
}

export const MAX_HEADER_FIELDS = 128;
export const MAX_TARGET_LENGTH = 8192;
const MAX_KEPT_VALUE = 1024;

const DIGITS = /^\d{1,15}$/;
const METHOD = /^[A-Z][A-Z_-]{0,23}$/;
const TARGET = /^[\x21-\x7e\x80-\xff]+$/;

/** Methods of RFC 9110 and common extensions; others are accepted when they look like a method token. */
export const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);

/**
 * Could `bytes` (the first captured bytes of a message) be the start of an HTTP/1.x message?
 * Answers "maybe" on a prefix too short to tell: the caller keeps reading.
 */
export function startLooksLikeHttp(bytes: Uint8Array, offset: number, end: number): 'yes' | 'no' | 'maybe' {
  const n = Math.min(end - offset, 24);
  // "HTTP/1." for responses.
  const http = 'HTTP/1.';
  let isResponse = true;
  for (let i = 0; i < Math.min(n, http.length); i++) {
    if (bytes[offset + i] !== http.charCodeAt(i)) {
      isResponse = false;
      break;
    }
  }
  if (isResponse) return n >= http.length ? 'yes' : 'maybe';
  // A method token of capitals followed by a space.
  for (let i = 0; i < n; i++) {
    const c = bytes[offset + i]!;
    if (c === 0x20) return i > 0 ? 'yes' : 'no';
    if (!(c >= 0x41 && c <= 0x5a) && !(i > 0 && (c === 0x5f || c === 0x2d))) return 'no';
  }
  return n < 24 ? 'maybe' : 'no';
}

/** Control characters other than HTAB in a kept value: the value is refused (never exported). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

/** Token characters (RFC 9110 §5.6.2), by char code. */
const TOKEN_CHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TOKEN_CHAR[c.charCodeAt(0)] = 1;

/** Header fields the tracer reads, by message kind (a response needs only its framing), by first letter. */
const REQUEST_FIELDS = ['host', 'user-agent', 'traceparent', 'tracestate', 'content-length', 'transfer-encoding', 'expect', 'upgrade'];
const RESPONSE_FIELDS = ['content-length', 'transfer-encoding', 'upgrade'];
/** Wanted names indexed by their (lower-case) first character's code: one array read per header line. */
const byFirstChar = (names: string[]): Array<string[] | undefined> => {
  const table: Array<string[] | undefined> = new Array<string[] | undefined>(128).fill(undefined);
  for (const name of names) (table[name.charCodeAt(0)] ??= []).push(name);
  return table;
};
const REQUEST_BY_CHAR = byFirstChar(REQUEST_FIELDS);
const RESPONSE_BY_CHAR = byFirstChar(RESPONSE_FIELDS);

/** Does text[at, at + name.length) equal the lower-case `name`, ignoring ASCII case? (No lower-cased copy.) */
function nameAt(text: string, at: number, name: string): boolean {
  for (let k = 0; k < name.length; k++) {
    let c = text.charCodeAt(at + k);
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== name.charCodeAt(k)) return false;
  }
  return true;
}

/**
 * Parse a complete head (without the blank line); undefined when it is not a valid HTTP/1.x head. One pass over
 * the lines: each is `token:` (only its first character and the colon are checked: the strict start line already
 * keeps binary data out) or an obs-fold continuation; at most MAX_HEADER_FIELDS; only the few fields the tracer
 * keeps are read, found by their first letter and compared case-insensitively in place (the head is never
 * lower-cased or split: a typical response head is ~10 lines of which at most 2 are read).
 */
export function parseHead(text: string): HttpHead | undefined {
  const firstNl = text.indexOf('\n');
  const head = parseStartLine(stripCr(firstNl < 0 ? text : text.slice(0, firstNl)));
  if (!head) return undefined;
  if (firstNl < 0) return head;
  const wanted = head.kind === 'request' ? REQUEST_BY_CHAR : RESPONSE_BY_CHAR;
  const lengths: LengthSeen = { first: undefined, conflict: false };
  let lines = 0;
  for (let at = firstNl; at >= 0 && at < text.length - 1;) {
    if (++lines > MAX_HEADER_FIELDS) return undefined;
    const start = at + 1;
    const next = text.indexOf('\n', start);
    const end = next < 0 ? text.length : next;
    const c = text.charCodeAt(start);
    if (c !== 0x20 && c !== 0x09) {
      const colon = text.indexOf(':', start);
      if (c >= 128 || TOKEN_CHAR[c] !== 1 || colon < 0 || colon > end) return undefined;
      const candidates = wanted[c >= 0x41 && c <= 0x5a ? c | 0x20 : c];
      if (candidates) {
        for (const name of candidates) {
          if (colon - start !== name.length || !nameAt(text, start, name)) continue;
          const value = stripCr(text.slice(colon + 1, end)).trim();
          if (CONTROL.test(value) || !keep(head.headers, name, value, lengths)) return undefined;
        }
      }
    }
    at = next;
  }
  if (lengths.conflict) return undefined; // conflicting Content-Length: a smuggling attempt or garbage
  return head;
}

interface LengthSeen {
  first: number | undefined;
  conflict: boolean;
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

function parseStartLine(line: string): HttpHead | undefined {
  if (line.startsWith('HTTP/')) {
    // status-line = HTTP-version SP status-code SP [ reason-phrase ]
    const m = /^HTTP\/(1\.[01]) ([1-9]\d\d)(?: [\t\x20-\x7e\x80-\xff]*)?$/.exec(line);
    if (!m) return undefined;
    return { kind: 'response', version: m[1]!, status: Number(m[2]), headers: {} };
  }
  const sp1 = line.indexOf(' ');
  const sp2 = line.lastIndexOf(' ');
  if (sp1 <= 0 || sp2 <= sp1) return undefined;
  const method = line.slice(0, sp1);
  const target = line.slice(sp1 + 1, sp2);
  const version = line.slice(sp2 + 1);
  if (!METHOD.test(method)) return undefined;
  if (version !== 'HTTP/1.1' && version !== 'HTTP/1.0') return undefined;
  if (target.length === 0 || target.length > MAX_TARGET_LENGTH || !TARGET.test(target)) return undefined;
  return { kind: 'request', version: version.slice(5), method, target, headers: {} };
}

/** Record a kept field (the first occurrence wins; every Content-Length must agree). False when invalid. */
function keep(h: KeptHeaders, name: string, value: string, lengths: LengthSeen): boolean {
  const kept = value.length > MAX_KEPT_VALUE ? value.slice(0, MAX_KEPT_VALUE) : value;
  switch (name) {
    case 'host': h.host ??= kept; break;
    case 'user-agent': h.userAgent ??= kept; break;
    case 'traceparent': h.traceparent ??= kept; break;
    case 'tracestate': h.tracestate ??= kept; break;
    case 'upgrade': h.upgrade ??= kept.toLowerCase(); break;
    case 'expect': h.expectContinue ??= value.toLowerCase() === '100-continue'; break;
    case 'content-length': {
      // One value is the norm; a list ("5, 5") must agree with itself and with any other Content-Length field.
      for (const part of DIGITS.test(value) ? [value] : value.split(',')) {
        const v = part.trim();
        if (!DIGITS.test(v)) return false;
        const n = Number(v);
        if (lengths.first === undefined) lengths.first = n;
        else if (lengths.first !== n) lengths.conflict = true;
      }
      h.contentLength = lengths.first;
      break;
    }
    case 'transfer-encoding': {
      // The last coding decides (RFC 9112 §6.3): chunked only when it is last.
      const lastComma = value.lastIndexOf(',');
      h.chunked = (lastComma < 0 ? value : value.slice(lastComma + 1)).trim().toLowerCase() === 'chunked';
      break;
    }
  }
  return true;
}
