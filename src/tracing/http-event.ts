// The TypeScript mirror of bpf/http.h `struct http_event` (offsets checked against the object's BTF in
// test/tracing/http-event.test.ts). One decoder, no copies: the captured bytes are read in place in the batch buffer.
import { formatIPv4, formatIPv6 } from '../util/ip.js';

export const HTTP_EVENT_SIZE = 104;
export const HTTP_MAX_CAPTURE = 8192;

export const HttpEventType = { DATA: 1, CLOSE: 2 } as const;
/**
 * http_event.flags. RESYNC: bytes of the connection before this event were not seen (exchanges shed in the
 * kernel while the ring was behind, or a connection registered mid-stream): parse from the next message start.
 */
export const HttpFlags = { RESYNC: 1 } as const;
export const Direction = { INGRESS: 0, EGRESS: 1 } as const;
export const Role = { SERVER: 1, CLIENT: 2 } as const;
/** http_pid_action */
export const PidAction = { TRACE: 1, SKIP: 2 } as const;

/** Field offsets of struct http_event (after the 16-byte telegen_event_header). */
export const HttpEventOffsets = {
  kind: 0, size: 4, timestamp_ns: 8,
  conn_id: 16, ts_enter: 24, position: 32, pid: 40, tid: 44, fd: 48, length: 52, captured: 56,
  type: 60, direction: 61, role: 62, family: 63, lport: 64, rport: 66, laddr: 68, raddr: 84, flags: 100, data: 104,
} as const;

export interface HttpEvent {
  type: number;
  direction: number;
  role: number;
  family: number;
  /** The kernel's ktime at accept/connect: unique per connection instance. */
  connId: number;
  /**
   * Syscall exit (the header's timestamp) and enter, CLOCK_MONOTONIC ns, as numbers: exact below 2^53 ns
   * (104 days of uptime), a few ns of rounding after that — no BigInt allocations per event.
   */
  tsExit: number;
  tsEnter: number;
  position: number;
  pid: number;
  tid: number;
  fd: number;
  length: number;
  /** The captured bytes are buf[dataOffset, dataOffset + captured): no view is made per event. */
  buf: Uint8Array;
  dataOffset: number;
  captured: number;
  lport: number;
  rport: number;
  /** HttpFlags bits. */
  flags: number;
  /** Formatted only when read (a new connection), not for every event. */
  readonly laddr: string;
  readonly raddr: string;
}

const O = HttpEventOffsets;

/** Little-endian u64 as a number (see HttpEvent.tsExit for the precision). */
const u64 = (buf: Buffer, at: number): number => buf.readUInt32LE(at) + buf.readUInt32LE(at + 4) * 4294967296;

/** Does a record at `offset` hold a whole event (header, and the captured bytes it claims)? */
function wellFormed(buf: Buffer, offset: number): boolean {
  if (offset + HTTP_EVENT_SIZE > buf.length) return false;
  const size = buf.readUInt32LE(offset + O.size);
  const captured = buf.readUInt32LE(offset + O.captured);
  return size >= HTTP_EVENT_SIZE && captured <= size - HTTP_EVENT_SIZE && offset + size <= buf.length;
}

/** Decode one event at `offset` into a new object; undefined when the record is too short for what it claims. */
export function decodeHttpEvent(buf: Buffer, offset: number): HttpEvent | undefined {
  const r = new HttpEventReader();
  return r.read(buf, offset) ? r : undefined;
}

/**
 * A reusable view of one event (the hot path: one instance re-pointed at every record of a batch, so decoding
 * allocates nothing). Whoever receives it must copy what it keeps: the next `read` overwrites it.
 */
export class HttpEventReader implements HttpEvent {
  type = 0;
  direction = 0;
  role = 0;
  family = 0;
  connId = 0;
  tsExit = 0;
  tsEnter = 0;
  position = 0;
  pid = 0;
  tid = 0;
  fd = 0;
  length = 0;
  buf: Buffer = Buffer.alloc(0);
  dataOffset = 0;
  captured = 0;
  lport = 0;
  rport = 0;
  flags = 0;
  private offset = 0;

  /** Point at the record at `offset`; false (and unchanged) when it is malformed. */
  read(buf: Buffer, offset: number): boolean {
    if (!wellFormed(buf, offset)) return false;
    this.buf = buf;
    this.offset = offset;
    this.type = buf[offset + O.type]!;
    this.direction = buf[offset + O.direction]!;
    this.role = buf[offset + O.role]!;
    this.family = buf[offset + O.family]!;
    this.connId = u64(buf, offset + O.conn_id);
    this.tsExit = u64(buf, offset + O.timestamp_ns);
    this.tsEnter = u64(buf, offset + O.ts_enter);
    // Positions are byte counts of one connection: far below 2^53.
    this.position = u64(buf, offset + O.position);
    this.pid = buf.readUInt32LE(offset + O.pid);
    this.tid = buf.readUInt32LE(offset + O.tid);
    this.fd = buf.readUInt32LE(offset + O.fd);
    this.length = buf.readUInt32LE(offset + O.length);
    this.dataOffset = offset + O.data;
    this.captured = buf.readUInt32LE(offset + O.captured);
    this.lport = buf.readUInt16LE(offset + O.lport);
    this.rport = buf.readUInt16LE(offset + O.rport);
    this.flags = buf.readUInt32LE(offset + O.flags);
    return true;
  }

  get laddr(): string {
    return formatAddress(this.buf, this.offset + O.laddr, this.family);
  }

  get raddr(): string {
    return formatAddress(this.buf, this.offset + O.raddr, this.family);
  }
}

/** IPv4 as dotted quad; IPv6 per RFC 5952; IPv4-mapped IPv6 (::ffff:a.b.c.d) as plain IPv4. */
export function formatAddress(buf: Buffer, at: number, family: number): string {
  if (family === 2) return formatIPv4(buf, at);
  return family === 10 ? formatIPv6(buf, at) : '';
}
