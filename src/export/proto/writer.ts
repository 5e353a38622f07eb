// A protobuf writer for the export hot path: one growable buffer reused across requests, nested messages
// written in place (1 byte reserved for the length, shifted only when a message is 128 bytes or longer).
// Only what OTLP and remote write need: varint, fixed32/64, double, bytes, strings, nested messages.
// The buffer grows geometrically (doubling) to the largest message and is kept, so a steady stream of batches
// allocates nothing; `trim()` gives a buffer grown past 1 MiB back once the messages are small again.

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

/** A buffer up to this size is kept whatever the messages (a 2048-span batch is ~620 KB). */
const KEEP_BYTES = 1024 * 1024;
/** Messages between two looks at whether a grown buffer is still needed. */
const TRIM_WINDOW = 64;

export class ProtoWriter {
  buf: Buffer;
  pos = 0;
  /** Over `buf`: setBigUint64 is inlined by V8 (far cheaper than Buffer#writeBigUInt64LE). */
  private dv: DataView;
  /** The largest message, and how many were started, since the last trim look. */
  private peak = 0;
  private messages = 0;

  constructor(private readonly initial = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initial);
    this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  }

  /** Start a fresh message (the buffer is kept). */
  reset(): this {
    if (this.pos > this.peak) this.peak = this.pos;
    this.pos = 0;
    // Busy, but the big messages stopped: shrink after a window of small ones (looked at once per window).
    if (this.messages >= TRIM_WINDOW) this.trim();
    this.messages++;
    return this;
  }

  /**
   * Give back a buffer grown past 1 MiB when every message started since the last look fits in a quarter of it,
   * or when none was started at all (idle: back to the initial size). Call only between messages: what view()
   * lent is invalid afterwards.
   */
  trim(): void {
    const idle = this.messages === 0;
    const peak = idle ? 0 : Math.max(this.peak, this.pos);
    this.peak = 0;
    this.messages = 0;
    if (this.buf.length <= KEEP_BYTES || peak * 4 > this.buf.length) return;
    let size = this.initial;
    while (size < peak * 2) size *= 2;
    this.buf = Buffer.allocUnsafe(size);
    this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
    this.pos = 0;
  }

  /** What was written, without a copy: valid only until this writer is used again. */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  /** A copy of what was written: the buffer itself is reused by the next message. */
  finish(): Buffer {
    // allocUnsafeSlow + copy is a memcpy; Buffer.from(subarray) copies byte by byte in Node 20.
    const out = Buffer.allocUnsafeSlow(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    return out;
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.dv = new DataView(next.buffer, next.byteOffset, next.length);
  }

  private rawVarint32(v: number): void {
    // v is a non-negative integer < 2^32 here.
    const b = this.buf;
    while (v > 0x7f) {
      b[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    b[this.pos++] = v;
  }

  tag(field: number, wire: number): void {
    this.ensure(5);
    if (field < 16) this.buf[this.pos++] = (field << 3) | wire; // every OTLP field number: one byte
    else this.rawVarint32(((field << 3) | wire) >>> 0);
  }

  /** uint32 / enum / bool (non-negative values below 2^32). */
  uint32(field: number, v: number): void {
    this.ensure(10);
    this.rawVarint32(((field << 3) | WIRE_VARINT) >>> 0);
    this.rawVarint32(v >>> 0);
  }

  bool(field: number, v: boolean): void {
    this.uint32(field, v ? 1 : 0);
  }

  /** int64 as a varint (two's complement for negatives, 10 bytes). */
  int64(field: number, v: number | bigint): void {
    this.tag(field, WIRE_VARINT);
    this.ensure(10);
    if (typeof v === 'number' && v >= 0 && v <= Number.MAX_SAFE_INTEGER) {
      // The common case (ports, status codes, counts, pids): no BigInt. Exact: v is an integer below 2^53.
      const b = this.buf;
      v = Math.trunc(v);
      while (v > 0x7f) {
        b[this.pos++] = (v % 0x80) | 0x80;
        v = Math.floor(v / 0x80);
      }
      b[this.pos++] = v;
      return;
    }
    let x = BigInt.asUintN(64, typeof v === 'bigint' ? v : BigInt(Math.trunc(v)));
    if (x < 0x80000000n) {
      this.rawVarint32(Number(x));
      return;
    }
    const b = this.buf;
    while (x > 0x7fn) {
      b[this.pos++] = Number(x & 0x7fn) | 0x80;
      x >>= 7n;
    }
    b[this.pos++] = Number(x);
  }

  fixed64(field: number, v: bigint): void {
    this.tag(field, WIRE_I64);
    this.ensure(8);
    this.dv.setBigUint64(this.pos, v, true); // wraps modulo 2^64 like asUintN
    this.pos += 8;
  }

  /** fixed64 from a JS number (counts): exact up to 2^53. */
  fixed64n(field: number, v: number): void {
    this.tag(field, WIRE_I64);
    this.ensure(8);
    this.buf.writeUInt32LE(v % 0x100000000 >>> 0, this.pos);
    this.buf.writeUInt32LE(Math.floor(v / 0x100000000) >>> 0, this.pos + 4);
    this.pos += 8;
  }

  sfixed64(field: number, v: number | bigint): void {
    this.tag(field, WIRE_I64);
    this.ensure(8);
    this.dv.setBigInt64(this.pos, typeof v === 'bigint' ? v : BigInt(Math.trunc(v)), true);
    this.pos += 8;
  }

  fixed32(field: number, v: number): void {
    this.tag(field, WIRE_I32);
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
  }

  double(field: number, v: number): void {
    this.tag(field, WIRE_I64);
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  /** Packed repeated double. */
  packedDoubles(field: number, vs: readonly number[]): void {
    if (vs.length === 0) return;
    this.tag(field, WIRE_LEN);
    this.ensure(5 + vs.length * 8);
    this.rawVarint32(vs.length * 8);
    for (const v of vs) {
      this.buf.writeDoubleLE(v, this.pos);
      this.pos += 8;
    }
  }

  /** Packed repeated fixed64 from JS numbers. */
  packedFixed64(field: number, vs: readonly number[]): void {
    if (vs.length === 0) return;
    this.tag(field, WIRE_LEN);
    this.ensure(5 + vs.length * 8);
    this.rawVarint32(vs.length * 8);
    for (const v of vs) {
      this.buf.writeUInt32LE(v % 0x100000000 >>> 0, this.pos);
      this.buf.writeUInt32LE(Math.floor(v / 0x100000000) >>> 0, this.pos + 4);
      this.pos += 8;
    }
  }

  bytes(field: number, v: Uint8Array): void {
    this.tag(field, WIRE_LEN);
    const n = v.length;
    this.ensure(5 + n);
    const b = this.buf;
    if (n < 0x80) {
      b[this.pos++] = n;
      if (n <= 16) {
        // Trace and span ids: a JS copy is cheaper than TypedArray#set's native call at this size.
        const p = this.pos;
        for (let i = 0; i < n; i++) b[p + i] = v[i]!;
        this.pos = p + n;
        return;
      }
    } else this.rawVarint32(n);
    b.set(v, this.pos);
    this.pos += n;
  }

  string(field: number, s: string): void {
    this.tag(field, WIRE_LEN);
    const max = s.length * 3;
    this.ensure(5 + max);
    if (max < 128) {
      // Short string: one length byte is enough whatever the UTF-8 length. ASCII is copied in JS (cheaper
      // than the native call for short strings); the first non-ASCII character hands over to utf8Write.
      const b = this.buf;
      const at = this.pos++;
      const len = s.length;
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        b[this.pos + i] = c;
      }
      const n = i === len ? len : b.utf8Write(s, this.pos);
      b[at] = n;
      this.pos += n;
      return;
    }
    const n = Buffer.byteLength(s, 'utf8');
    this.rawVarint32(n);
    this.pos += this.buf.utf8Write(s, this.pos);
  }

  /** Begin a nested message; pass the result to `end`. */
  begin(field: number): number {
    this.tag(field, WIRE_LEN);
    this.ensure(1);
    return this.pos++;
  }

  end(at: number): void {
    const len = this.pos - at - 1;
    if (len < 128) {
      this.buf[at] = len;
      return;
    }
    this.moveBody(at, 1, len);
  }

  /**
   * Begin a message that is usually 128 B – 16 KiB long (a span, a data point with many attributes): 2 length
   * bytes are reserved so `end2` rarely has to move the body. Pass the result to `end2`.
   */
  begin2(field: number): number {
    this.tag(field, WIRE_LEN);
    this.ensure(2);
    const at = this.pos;
    this.pos += 2;
    return at;
  }

  end2(at: number): void {
    const len = this.pos - at - 2;
    if (len >= 128 && len < 0x4000) {
      this.buf[at] = (len & 0x7f) | 0x80;
      this.buf[at + 1] = len >>> 7;
      return;
    }
    this.moveBody(at, 2, len);
  }

  /** Write `len` as the varint at `at`, moving the body when its size differs from the `reserved` bytes. */
  private moveBody(at: number, reserved: number, len: number): void {
    const need = varintSize(len);
    if (need > reserved) this.ensure(need - reserved);
    this.buf.copyWithin(at + need, at + reserved, this.pos);
    const save = this.pos + need - reserved;
    this.pos = at;
    this.rawVarint32(len);
    this.pos = save;
  }

  /** A length-delimited field whose length prefix and body are already encoded (a cached KeyValue). */
  lengthDelimited(field: number, prefixed: Uint8Array): void {
    const n = prefixed.length;
    this.ensure(5 + n);
    const b = this.buf;
    if (field < 16) b[this.pos++] = (field << 3) | WIRE_LEN;
    else this.rawVarint32(((field << 3) | WIRE_LEN) >>> 0);
    b.set(prefixed, this.pos);
    this.pos += n;
  }

  /** Append bytes already encoded as fields of the current message. */
  raw(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
}

export function varintSize(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  return 5;
}

// Buffer's utf8Write is public at runtime but missing from @types/node.
declare global {
  interface Buffer {
    utf8Write(s: string, offset?: number, length?: number): number;
  }
}
