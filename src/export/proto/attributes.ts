// Attributes (repeated KeyValue) for the export hot path. Telemetry attributes repeat a lot — the same keys in the
// same order on every span of a source (http.request.method, url.path, server.port…), many with few values
// (GET, 8080, 1.1) — so the encoder keeps, per key:
// - its KeyValue.key field already encoded (tag, length, UTF-8), copied before a value that is not cached;
// - the encoded KeyValue of its recent scalar values (≤ MAX_VALUES per key, short strings, numbers, booleans),
//   copied whole on the next occurrence; the value seen last is compared first, so a run of one value costs
//   no Map lookup at all. A key whose values do not repeat (url.path) stops being looked up for a while.
// Keys are found without hashing while the attribute order repeats: each call site has a few position slots
// (attribute i of this span is very likely attribute i of the previous one), a Map lookup otherwise.
// Bounded: at most MAX_KEYS keys (a key seen once the table is full is written uncached; after RELEARN_AFTER such
// writes the table is dropped and learned again, in case it filled with keys that never came back) and
// MAX_CACHE_BYTES of encoded values (past it, dropped and learned again). See `attributeCacheStats()`.
import type { AttributeValue, Attributes } from '../../model/attributes.js';
import type { ProtoWriter } from './writer.js';

const MAX_KEYS = 512;
const MAX_VALUES = 64;
const MAX_CACHED_CHARS = 64;
/** Encoded KeyValues kept over all keys (each at most ~450 B: a 64-char key and value, 3 bytes a char). */
const MAX_CACHE_BYTES = 4 * 1024 * 1024;
/** Misses on a full value table looked at at once: more misses than hits, and the key stops caching values. */
const MISS_WINDOW = 256;
/** Writes of such a key before its values are cached again (its cardinality may have changed). */
const SKIP_WRITES = 4096;
const SLOTS = 32;
/** Writes of keys left out of a full table before the table is dropped and learned again. */
const RELEARN_AFTER = 1 << 18;

type Scalar = string | number | boolean;

class KeyEntry {
  /** Encoded KeyValue (length prefix + body, no tag: any field number can reuse it) per scalar value. */
  values: Map<Scalar, Uint8Array> | undefined = undefined;
  /** The value written last and its bytes. */
  last: Scalar | undefined = undefined;
  lastBytes: Uint8Array | undefined = undefined;
  hits = 0;
  misses = 0;
  /** > 0: values are not looked up for this many more writes. */
  skip = 0;
  constructor(readonly key: string, readonly keyField: Uint8Array, readonly generation: number) {}
}

const keys = new Map<string, KeyEntry>();
let generation = 0;
let cachedBytes = 0;
let uncachedSinceReset = 0;
const stats = { resets: 0, highCardinalityKeys: 0, uncachedKeyWrites: 0 };

/** Position slots of one call site (span attributes, resource, data points, log records). */
export type AttributeSlots = Array<KeyEntry | undefined>;
export const newSlots = (): AttributeSlots => new Array<KeyEntry | undefined>(SLOTS).fill(undefined);
const defaultSlots = newSlots();

/** Since start: table resets, keys found high-cardinality, key writes left uncached because the table was full. */
export function attributeCacheStats(): { keys: number; bytes: number; resets: number; highCardinalityKeys: number; uncachedKeyWrites: number } {
  return { keys: keys.size, bytes: cachedBytes, ...stats };
}

function entryFor(key: string): KeyEntry | undefined {
  let e = keys.get(key);
  if (e !== undefined) return e;
  if (key.length > MAX_CACHED_CHARS) return undefined;
  if (keys.size >= MAX_KEYS) {
    // Full: the key is written uncached. Many such writes (keys that never repeat, or a new workload whose keys
    // came after the table filled) and the table is dropped and learned again.
    stats.uncachedKeyWrites++;
    if (++uncachedSinceReset >= RELEARN_AFTER) reset();
    return undefined;
  }
  const utf8 = Buffer.from(key, 'utf8');
  // KeyValue.key: tag (field 1, length-delimited), length (< 128: at most 64 chars × 3 bytes = 192 → 2 bytes), bytes.
  const head = utf8.length < 0x80 ? 2 : 3;
  const field = new Uint8Array(head + utf8.length);
  field[0] = 0x0a;
  if (head === 2) field[1] = utf8.length;
  else {
    field[1] = (utf8.length & 0x7f) | 0x80;
    field[2] = utf8.length >>> 7;
  }
  field.set(utf8, head);
  e = new KeyEntry(key, field, generation);
  keys.set(key, e);
  cachedBytes += field.length;
  return e;
}

/** Drop every cached key and value (counted as a reset): tests start from a known table. */
export function resetAttributeCache(): void {
  reset();
}

function reset(): void {
  keys.clear();
  uncachedSinceReset = 0;
  cachedBytes = 0;
  generation++;
  stats.resets++;
}

/** repeated KeyValue at `field` (key 1, value 2). */
export function writeAttributes(w: ProtoWriter, field: number, attrs: Attributes, slots: AttributeSlots = defaultSlots): void {
  let i = 0;
  for (const key in attrs) {
    const v = attrs[key];
    if (v === undefined) continue;
    let e = i < SLOTS ? slots[i] : undefined;
    if (e === undefined || e.key !== key || e.generation !== generation) {
      e = entryFor(key);
      if (i < SLOTS) slots[i] = e;
    }
    i++;
    if (e === undefined) {
      writeKeyValue(w, field, key, v);
      continue;
    }
    const t = typeof v;
    if (e.skip === 0 && (t === 'string' ? (v as string).length <= MAX_CACHED_CHARS : t === 'number' || t === 'boolean')) {
      if (v === e.last) {
        w.lengthDelimited(field, e.lastBytes!);
        continue;
      }
      let values = e.values;
      if (values !== undefined) {
        const hit = values.get(v as Scalar);
        if (hit !== undefined) {
          e.hits++;
          e.last = v as Scalar;
          e.lastBytes = hit;
          w.lengthDelimited(field, hit);
          continue;
        }
      }
      const at = writeKeyValueWith(w, field, e.keyField, v);
      if (values === undefined) values = e.values = new Map();
      if (values.size < MAX_VALUES) {
        const bytes = new Uint8Array(w.buf.subarray(at, w.pos)); // a copy: the buffer is reused
        values.set(v as Scalar, bytes);
        e.last = v as Scalar;
        e.lastBytes = bytes;
        cachedBytes += bytes.length;
        if (cachedBytes > MAX_CACHE_BYTES) reset();
      } else if (++e.misses >= MISS_WINDOW) {
        if (e.misses > e.hits) {
          // High cardinality (url.path, ids): stop hashing its values for a while, and give their bytes back.
          stats.highCardinalityKeys++;
          e.skip = SKIP_WRITES;
          e.values = undefined;
          e.last = e.lastBytes = undefined;
        }
        e.hits = e.misses = 0;
      }
      continue;
    }
    if (e.skip > 0) e.skip--;
    writeKeyValueWith(w, field, e.keyField, v);
  }
}

/** One KeyValue, the key already encoded; returns where its length prefix starts. */
function writeKeyValueWith(w: ProtoWriter, field: number, keyField: Uint8Array, v: AttributeValue): number {
  const at = w.begin(field);
  w.raw(keyField);
  writeAnyValue(w, 2, v);
  w.end(at);
  return at;
}

function writeKeyValue(w: ProtoWriter, field: number, key: string, v: AttributeValue): void {
  const at = w.begin(field);
  w.string(1, key);
  writeAnyValue(w, 2, v);
  w.end(at);
}

/** AnyValue (common.proto): string 1, bool 2, int 3, double 4, array 5, kvlist 6, bytes 7. */
export function writeAnyValue(w: ProtoWriter, field: number, v: AttributeValue): void {
  const at = w.begin(field);
  switch (typeof v) {
    case 'string': w.string(1, v); break;
    case 'boolean': w.bool(2, v); break;
    // An integral JS number is sent as int_value, anything else as double_value.
    case 'number': if (Number.isSafeInteger(v)) w.int64(3, v); else w.double(4, v); break;
    case 'bigint': w.int64(3, v); break;
    default: {
      const arr = w.begin(5);
      for (const x of v) writeAnyValue(w, 1, x);
      w.end(arr);
    }
  }
  w.end(at);
}
