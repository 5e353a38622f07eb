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

/** latin1 text of bytes[start, end): one string, no intermediate Buffer view (works on any Uint8Array). */
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice(this: Uint8Array, start: number, end: number): string }).latin1Slice;
const latin1 = (bytes: Uint8Array, start: number, end: number): string => latin1Slice.call(bytes, start, end);

/** What String.prototype.trim removes, among latin1 characters (HTAB, LF, VT, FF, CR, SP, NBSP). */
const isTrimmed = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0;

/** Index of byte `c` in bytes[from, to), or -1 (the native search may look past `to`: its answer is bounded). */
function indexIn(bytes: Uint8Array, c: number, from: number, to: number): number {
  const i = bytes.indexOf(c, from);
  return i >= 0 && i < to ? i : -1;
}

/** Does bytes[at, at + name.length) equal the lower-case `name`, ignoring ASCII case? (No lower-cased copy.) */
function nameAt(bytes: Uint8Array, at: number, name: string): boolean {
  for (let k = 0; k < name.length; k++) {
    let c = bytes[at + k]!;
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== name.charCodeAt(k)) return false;
  }
  return true;
}

/**
 * Parse a complete head, bytes[start, end) (the blank line and any trailing whitespace are ignored), in place:
 * undefined when it is not a valid HTTP/1.x head. One pass over the lines: each is `token:` (only its first
 * character and the colon are checked: the strict start line already keeps binary data out) or an obs-fold
 * continuation; at most MAX_HEADER_FIELDS; only the few fields the tracer keeps are read, found by their first
 * letter and compared case-insensitively in place. No string is made of the head: only of the method (unless it
 * is a known one), the target and the kept values (a typical response head is ~10 lines of which at most 2 are
 * read, and its Content-Length is read as digits).
 */
export function parseHeadBytes(bytes: Uint8Array, start: number, end: number): HttpHead | undefined {
  while (end > start && isTrimmed(bytes[end - 1]!)) end--;
  const firstNl = indexIn(bytes, 0x0a, start, end);
  const lineEnd = firstNl < 0 ? end : firstNl;
  const head = parseStartLine(bytes, start, lineEnd > start && bytes[lineEnd - 1] === 0x0d ? lineEnd - 1 : lineEnd);
  if (!head) return undefined;
  if (firstNl < 0) return head;
  const wanted = head.kind === 'request' ? REQUEST_BY_CHAR : RESPONSE_BY_CHAR;
  const lengths: LengthSeen = { first: undefined, conflict: false };
  let lines = 0;
  for (let at = firstNl; at >= 0 && at < end - 1;) {
    if (++lines > MAX_HEADER_FIELDS) return undefined;
    const s = at + 1;
    const next = indexIn(bytes, 0x0a, s, end);
    const e = next < 0 ? end : next;
    const c = bytes[s]!;
    if (c !== 0x20 && c !== 0x09) {
      let colon = s;
      while (colon < e && bytes[colon] !== 0x3a) colon++; // within the line: a line without a colon is refused
      if (colon === e) colon = -1;
      if (c >= 128 || TOKEN_CHAR[c] !== 1 || colon < 0) return undefined;
      const candidates = wanted[c >= 0x41 && c <= 0x5a ? c | 0x20 : c];
      if (candidates) {
        for (const name of candidates) {
          if (colon - s !== name.length || !nameAt(bytes, s, name)) continue;
          let vs = colon + 1;
          let ve = e;
          while (vs < ve && isTrimmed(bytes[vs]!)) vs++;
          while (ve > vs && isTrimmed(bytes[ve - 1]!)) ve--;
          for (let k = vs; k < ve; k++) {
            const v = bytes[k]!;
            // Control characters other than HTAB: the value is refused (never exported).
            if (v <= 0x08 || (v >= 0x0a && v <= 0x1f) || v === 0x7f) return undefined;
          }
          if (name === 'content-length') {
            if (!keepLengths(head.headers, bytes, vs, ve, lengths)) return undefined;
          } else keep(head.headers, name, latin1(bytes, vs, ve));
        }
      }
    }
    at = next;
  }
  if (lengths.conflict) return undefined; // conflicting Content-Length: a smuggling attempt or garbage
  return head;
}

/** The value of 1 to 15 decimal digits bytes[start, end), or -1 when it is anything else. */
function digitsValue(bytes: Uint8Array, start: number, end: number): number {
  if (end <= start || end - start > 15) return -1;
  let n = 0;
  for (let k = start; k < end; k++) {
    const d = bytes[k]! - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

interface LengthSeen {
  first: number | undefined;
  conflict: boolean;
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
/** reason-phrase characters: HTAB, SP, VCHAR, obs-text. */
const isReasonChar = (c: number): boolean => c === 0x09 || (c >= 0x20 && c <= 0x7e) || c >= 0x80;
/** request-target characters accepted: visible ASCII and obs-text. */
const isTargetChar = (c: number): boolean => (c >= 0x21 && c <= 0x7e) || c >= 0x80;
const HTTP_SLASH = [0x48, 0x54, 0x54, 0x50, 0x2f]; // "HTTP/"
const METHOD_BYTES = [...KNOWN_METHODS].map((m) => ({ m, bytes: Buffer.from(m, 'latin1') }));

/** Does bytes[at, ...) start with `prefix`? */
function startsWith(bytes: Uint8Array, at: number, end: number, prefix: readonly number[]): boolean {
  if (end - at < prefix.length) return false;
  for (let k = 0; k < prefix.length; k++) if (bytes[at + k] !== prefix[k]) return false;
  return true;
}

/** The start line, bytes[start, end) without its line ending. */
function parseStartLine(bytes: Uint8Array, start: number, end: number): HttpHead | undefined {
  if (startsWith(bytes, start, end, HTTP_SLASH)) {
    // status-line = HTTP-version SP status-code SP [ reason-phrase ]: "HTTP/1.x ddd" then nothing or SP reason.
    const n = end - start;
    const major = bytes[start + 5];
    const minor = bytes[start + 7]!;
    const s0 = bytes[start + 9]!;
    const s1 = bytes[start + 10]!;
    const s2 = bytes[start + 11]!;
    if (n < 12 || major !== 0x31 || bytes[start + 6] !== 0x2e || (minor !== 0x30 && minor !== 0x31) || bytes[start + 8] !== 0x20) return undefined;
    if (s0 < 0x31 || s0 > 0x39 || !isDigit(s1) || !isDigit(s2)) return undefined;
    if (n > 12) {
      if (bytes[start + 12] !== 0x20) return undefined;
      for (let k = start + 13; k < end; k++) if (!isReasonChar(bytes[k]!)) return undefined;
    }
    const status = (s0 - 0x30) * 100 + (s1 - 0x30) * 10 + (s2 - 0x30);
    return { kind: 'response', version: minor === 0x31 ? '1.1' : '1.0', status, headers: {} };
  }
  const sp1 = indexIn(bytes, 0x20, start, end);
  const sp2 = bytes.lastIndexOf(0x20, end - 1);
  if (sp1 <= start || sp2 <= sp1) return undefined;
  // method: a capital, then up to 23 capitals, '_' or '-'.
  if (sp1 - start > 24) return undefined;
  for (let k = start; k < sp1; k++) {
    const c = bytes[k]!;
    if (!(c >= 0x41 && c <= 0x5a) && !(k > start && (c === 0x5f || c === 0x2d))) return undefined;
  }
  // version: exactly HTTP/1.1 or HTTP/1.0.
  if (end - (sp2 + 1) !== 8 || !startsWith(bytes, sp2 + 1, end, HTTP_SLASH) || bytes[sp2 + 6] !== 0x31
    || bytes[sp2 + 7] !== 0x2e || (bytes[sp2 + 8] !== 0x31 && bytes[sp2 + 8] !== 0x30)) return undefined;
  const targetLength = sp2 - sp1 - 1;
  if (targetLength === 0 || targetLength > MAX_TARGET_LENGTH) return undefined;
  for (let k = sp1 + 1; k < sp2; k++) if (!isTargetChar(bytes[k]!)) return undefined;
  return {
    kind: 'request', version: bytes[sp2 + 8] === 0x31 ? '1.1' : '1.0', method: methodString(bytes, start, sp1),
    target: latin1(bytes, sp1 + 1, sp2), headers: {},
  };
}

/** A known method's shared string (no allocation per request); other method tokens as new strings. */
function methodString(bytes: Uint8Array, start: number, end: number): string {
  for (const { m, bytes: mb } of METHOD_BYTES) {
    if (mb.length !== end - start) continue;
    let k = 0;
    while (k < mb.length && bytes[start + k] === mb[k]) k++;
    if (k === mb.length) return m;
  }
  return latin1(bytes, start, end);
}

/** Record a kept field other than Content-Length (the first occurrence wins). */
function keep(h: KeptHeaders, name: string, value: string): void {
  const kept = value.length > MAX_KEPT_VALUE ? value.slice(0, MAX_KEPT_VALUE) : value;
  switch (name) {
    case 'host': h.host ??= kept; break;
    case 'user-agent': h.userAgent ??= kept; break;
    case 'traceparent': h.traceparent ??= kept; break;
    case 'tracestate': h.tracestate ??= kept; break;
    case 'upgrade': h.upgrade ??= kept.toLowerCase(); break;
    case 'expect': h.expectContinue ??= value.toLowerCase() === '100-continue'; break;
    case 'transfer-encoding': {
      // The last coding decides (RFC 9112 §6.3): chunked only when it is last.
      const lastComma = value.lastIndexOf(',');
      h.chunked = (lastComma < 0 ? value : value.slice(lastComma + 1)).trim().toLowerCase() === 'chunked';
      break;
    }
  }
}

/**
 * A Content-Length value, bytes[start, end) (trimmed), read as digits: one number is the norm; a list ("5, 5")
 * must agree with itself and with any other Content-Length field (the first value counts). False when a part is
 * not 1 to 15 digits.
 */
function keepLengths(h: KeptHeaders, bytes: Uint8Array, start: number, end: number, lengths: LengthSeen): boolean {
  for (let s = start; ;) {
    let e = s;
    while (e < end && bytes[e] !== 0x2c) e++;
    let ps = s;
    let pe = e;
    while (ps < pe && isTrimmed(bytes[ps]!)) ps++;
    while (pe > ps && isTrimmed(bytes[pe - 1]!)) pe--;
    const n = digitsValue(bytes, ps, pe);
    if (n < 0) return false;
    if (lengths.first === undefined) lengths.first = n;
    else if (lengths.first !== n) lengths.conflict = true;
    h.contentLength = lengths.first;
    if (e === end) return true;
    s = e + 1;
  }
}
