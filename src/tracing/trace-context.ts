// W3C Trace Context (traceparent) parsing and fast id generation for spans built from captured traffic.
import { randomFillSync } from 'node:crypto';

export interface SpanContext {
  traceId: Uint8Array;
  spanId: Uint8Array;
}

const HEX = /^[0-9a-f]+$/;

/** Parse a `traceparent` header value (version 00 and forward-compatible later versions); undefined when invalid. */
export function parseTraceparent(value: string | undefined): SpanContext | undefined {
  if (!value) return undefined;
  const parts = value.trim().split('-');
  if (parts.length < 4) return undefined;
  const [version, trace, span, flags] = parts as [string, string, string, string];
  if (version.length !== 2 || !HEX.test(version) || version === 'ff') return undefined;
  if (version === '00' && parts.length !== 4) return undefined;
  if (trace.length !== 32 || !HEX.test(trace) || /^0+$/.test(trace)) return undefined;
  if (span.length !== 16 || !HEX.test(span) || /^0+$/.test(span)) return undefined;
  if (flags.length !== 2 || !HEX.test(flags)) return undefined;
  return { traceId: Buffer.from(trace, 'hex'), spanId: Buffer.from(span, 'hex') };
}

export const toHex = (id: Uint8Array): string => Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex');

// Ids come from a pool filled by the CSPRNG: one getrandom per ~170 spans instead of one per id. Each id is a view
// into the pool (no copy); a full pool is replaced, never refilled, so ids already handed out keep their bytes.
const POOL_SIZE = 4096;
let pool = new Uint8Array(0);
let poolOffset = 0;

function randomBytes(n: number): Uint8Array {
  if (poolOffset + n > pool.length) {
    pool = randomFillSync(new Uint8Array(POOL_SIZE));
    poolOffset = 0;
  }
  const out = pool.subarray(poolOffset, poolOffset + n);
  poolOffset += n;
  // An all-zero id is invalid in OTLP; the odds are negligible but the fix is free.
  let any = 0;
  for (let i = 0; i < n; i++) any |= out[i]!;
  if (any === 0) out[n - 1] = 1;
  return out;
}

export const newTraceId = (): Uint8Array => randomBytes(16);
export const newSpanId = (): Uint8Array => randomBytes(8);
