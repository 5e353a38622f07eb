// The TypeScript mirror of bpf/http.h `struct http_event` (offsets checked against the object's BTF in
// test/tracing/http-event.test.ts). One decoder, no copies: `data` is a view into the batch buffer.

export const HTTP_EVENT_SIZE = 104;
export const HTTP_MAX_CAPTURE = 8192;

export const HttpEventType = { DATA: 1, CLOSE: 2 } as const;
export const Direction = { INGRESS: 0, EGRESS: 1 } as const;
export const Role = { SERVER: 1, CLIENT: 2 } as const;
/** http_pid_action */
export const PidAction = { TRACE: 1, SKIP: 2 } as const;

/** Field offsets of struct http_event (after the 16-byte telegen_event_header). */
export const HttpEventOffsets = {
  kind: 0, size: 4, timestamp_ns: 8,
  conn_id: 16, ts_enter: 24, position: 32, pid: 40, tid: 44, fd: 48, length: 52, captured: 56,
  type: 60, direction: 61, role: 62, family: 63, lport: 64, rport: 66, laddr: 68, raddr: 84, data: 104,
} as const;

export interface HttpEvent {
  type: number;
  direction: number;
  role: number;
  family: number;
  connId: bigint;
  /** Syscall exit (the header's timestamp) and enter, CLOCK_MONOTONIC ns. */
  tsExit: bigint;
  tsEnter: bigint;
  position: number;
  pid: number;
  tid: number;
  fd: number;
  length: number;
  data: Uint8Array;
  lport: number;
  rport: number;
  /** Formatted only when read (a new connection), not for every event. */
  readonly laddr: string;
  readonly raddr: string;
}

const O = HttpEventOffsets;

/** Decode one event at `offset`; undefined when the record is too short for what it claims. */
export function decodeHttpEvent(buf: Buffer, offset: number): HttpEvent | undefined {
  if (offset + HTTP_EVENT_SIZE > buf.length) return undefined;
  const size = buf.readUInt32LE(offset + O.size);
  const captured = buf.readUInt32LE(offset + O.captured);
  if (size < HTTP_EVENT_SIZE || captured > size - HTTP_EVENT_SIZE || offset + size > buf.length) return undefined;
  return new DecodedHttpEvent(buf, offset, captured);
}

class DecodedHttpEvent implements HttpEvent {
  readonly type: number;
  readonly direction: number;
  readonly role: number;
  readonly family: number;
  readonly connId: bigint;
  readonly tsExit: bigint;
  readonly tsEnter: bigint;
  readonly position: number;
  readonly pid: number;
  readonly tid: number;
  readonly fd: number;
  readonly length: number;
  readonly data: Uint8Array;
  readonly lport: number;
  readonly rport: number;

  constructor(private readonly buf: Buffer, private readonly offset: number, captured: number) {
    this.type = buf[offset + O.type]!;
    this.direction = buf[offset + O.direction]!;
    this.role = buf[offset + O.role]!;
    this.family = buf[offset + O.family]!;
    this.connId = buf.readBigUInt64LE(offset + O.conn_id);
    this.tsExit = buf.readBigUInt64LE(offset + O.timestamp_ns);
    this.tsEnter = buf.readBigUInt64LE(offset + O.ts_enter);
    // Positions are byte counts of one connection: far below 2^53.
    this.position = buf.readUInt32LE(offset + O.position) + buf.readUInt32LE(offset + O.position + 4) * 2 ** 32;
    this.pid = buf.readUInt32LE(offset + O.pid);
    this.tid = buf.readUInt32LE(offset + O.tid);
    this.fd = buf.readUInt32LE(offset + O.fd);
    this.length = buf.readUInt32LE(offset + O.length);
    this.data = buf.subarray(offset + O.data, offset + O.data + captured);
    this.lport = buf.readUInt16LE(offset + O.lport);
    this.rport = buf.readUInt16LE(offset + O.rport);
  }

  get laddr(): string {
    return formatAddress(this.buf, this.offset + O.laddr, this.family);
  }

  get raddr(): string {
    return formatAddress(this.buf, this.offset + O.raddr, this.family);
  }
}

/** IPv4 as dotted quad; IPv6 compressed; IPv4-mapped IPv6 (::ffff:a.b.c.d) as plain IPv4. */
export function formatAddress(buf: Buffer, at: number, family: number): string {
  if (family === 2) return `${buf[at]}.${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}`;
  if (family !== 10) return '';
  let mapped = true;
  for (let i = 0; i < 10; i++) if (buf[at + i] !== 0) mapped = false;
  if (mapped && buf[at + 10] === 0xff && buf[at + 11] === 0xff) {
    return `${buf[at + 12]}.${buf[at + 13]}.${buf[at + 14]}.${buf[at + 15]}`;
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(buf.readUInt16BE(at + i).toString(16));
  // Compress the longest run of zero groups (RFC 5952).
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) { best = i; bestLen = j - i; }
    i = j;
  }
  if (best < 0) return groups.join(':');
  const text = `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
  return text;
}
