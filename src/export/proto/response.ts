// Reads partial_success from an ExportXServiceResponse: field 1 (partial_success) holds field 1 (rejected_*,
// int64) and field 2 (error_message). Malformed bytes yield "nothing rejected" rather than an exception.

export interface PartialSuccess { rejected: number; message: string }

export function decodePartialSuccess(b: Uint8Array): PartialSuccess {
  const out: PartialSuccess = { rejected: 0, message: '' };
  try {
    const outer = fields(b).get(1);
    if (outer instanceof Uint8Array) {
      const inner = fields(outer);
      const r = inner.get(1);
      const m = inner.get(2);
      if (typeof r === 'number') out.rejected = r;
      if (m instanceof Uint8Array) out.message = Buffer.from(m).toString('utf8');
    }
  } catch {
    // A response we cannot read does not turn a 200 into a failure.
  }
  return out;
}

/** Top-level fields of a message (the last occurrence wins; repeated ones via `allFields`). */
export function fields(b: Uint8Array): Map<number, number | Uint8Array> {
  return new Map(allFields(b));
}

/** Every (field, value) of a message in order; varints as numbers, length-delimited as bytes. Throws if malformed. */
export function allFields(b: Uint8Array): Array<[number, number | Uint8Array]> {
  const out: Array<[number, number | Uint8Array]> = [];
  let i = 0;
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      if (i >= b.length) throw new Error('truncated');
      const x = b[i++]!;
      v += (x & 0x7f) * mul;
      if (!(x & 0x80)) return v;
      mul *= 128;
    }
  };
  while (i < b.length) {
    const tag = varint();
    const field = Math.floor(tag / 8);
    switch (tag & 7) {
      case 0: out.push([field, varint()]); break;
      case 1: i += 8; break;
      case 2: { const n = varint(); if (i + n > b.length) throw new Error('truncated'); out.push([field, b.subarray(i, i + n)]); i += n; break; }
      case 5: i += 4; break;
      default: throw new Error('bad wire type');
    }
  }
  return out;
}
