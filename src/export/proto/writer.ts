// A protobuf writer for the export hot path: one growable buffer reused across requests, nested messages
// written in place (1 byte reserved for the length, shifted only when a message is 128 bytes or longer).
// Only what OTLP and remote write need: varint, fixed32/64, double, bytes, strings, nested messages.

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

export class ProtoWriter {
  buf: Buffer;
  pos = 0;

  constructor(initial = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  /** Start a fresh message (the buffer is kept). */
  reset(): this {
    this.pos = 0;
    return this;
  }

  /** A copy of what was written: the buffer itself is reused by the next message. */
  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
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
    this.rawVarint32(((field << 3) | wire) >>> 0);
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
    this.buf.writeBigUInt64LE(BigInt.asUintN(64, v), this.pos);
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
    this.buf.writeBigInt64LE(BigInt.asIntN(64, typeof v === 'bigint' ? v : BigInt(Math.trunc(v))), this.pos);
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
    this.ensure(5 + v.length);
    this.rawVarint32(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  string(field: number, s: string): void {
    this.tag(field, WIRE_LEN);
    const max = s.length * 3;
    this.ensure(5 + max);
    if (max < 128) {
      // Short string: one length byte is enough whatever the UTF-8 length.
      const at = this.pos++;
      const n = this.buf.utf8Write(s, this.pos);
      this.buf[at] = n;
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
    const extra = varintSize(len) - 1;
    this.ensure(extra);
    this.buf.copyWithin(at + 1 + extra, at + 1, this.pos);
    const save = this.pos + extra;
    this.pos = at;
    this.rawVarint32(len);
    this.pos = save;
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
