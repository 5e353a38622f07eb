// The one TypeScript mirror of bpf/tcp.h `struct tcp_event` (offsets checked against the C header by
// test/ebpf/layouts.test.ts).
import { cString, EventHeaderLayout } from '../events.js';
import { formatIPv4, formatIPv6 } from '../../util/ip.js';

export const TcpEventLayout = {
  cgroup_id: 16, duration_ns: 24, bytes_sent: 32, bytes_received: 40, pid: 48, retransmits: 52,
  saddr: 56, daddr: 72, sport: 88, dport: 90, family: 92, direction: 94, type: 95, error: 96, flags: 100,
  comm: 104, SIZE: 120,
} as const;

export type TcpEventType = 'established' | 'closed' | 'failed';
export type TcpDirection = 'outbound' | 'inbound';

export interface TcpEvent {
  type: TcpEventType;
  direction: TcpDirection;
  /** Monotonic kernel time of the event (ns). */
  timestampNs: bigint;
  pid: number;
  comm: string;
  cgroupId: bigint;
  family: 4 | 6;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  durationNs: number;
  bytesSent: number;
  bytesReceived: number;
  retransmits: number;
  /** errno of a failure (111 ECONNREFUSED, 110 ETIMEDOUT, 104 ECONNRESET), else 0. */
  error: number;
  /** True when an `established` event was delivered for this connection (the active-connection gauge). */
  announced: boolean;
}

const TYPES: Record<number, TcpEventType> = { 1: 'established', 2: 'closed', 3: 'failed' };
const AF_INET = 2;

export function decodeTcpEvent(buf: Buffer, off: number): TcpEvent | null {
  const L = TcpEventLayout;
  if (buf.readUInt32LE(off + EventHeaderLayout.size) < L.SIZE) return null;
  const type = TYPES[buf[off + L.type]!];
  if (!type) return null;
  const v4 = buf.readUInt16LE(off + L.family) === AF_INET;
  return {
    type,
    direction: buf[off + L.direction] === 2 ? 'inbound' : 'outbound',
    timestampNs: buf.readBigUInt64LE(off + EventHeaderLayout.timestamp_ns),
    pid: buf.readUInt32LE(off + L.pid),
    comm: cString(buf, off + L.comm, 16),
    cgroupId: buf.readBigUInt64LE(off + L.cgroup_id),
    family: v4 ? 4 : 6,
    localAddress: formatAddress(buf, off + L.saddr, v4),
    localPort: buf.readUInt16LE(off + L.sport),
    remoteAddress: formatAddress(buf, off + L.daddr, v4),
    remotePort: buf.readUInt16LE(off + L.dport),
    durationNs: Number(buf.readBigUInt64LE(off + L.duration_ns)),
    bytesSent: Number(buf.readBigUInt64LE(off + L.bytes_sent)),
    bytesReceived: Number(buf.readBigUInt64LE(off + L.bytes_received)),
    retransmits: buf.readUInt32LE(off + L.retransmits),
    error: buf.readInt32LE(off + L.error),
    announced: (buf.readUInt32LE(off + L.flags) & 1) === 1,
  };
}

function formatAddress(buf: Buffer, off: number, v4: boolean): string {
  return v4 ? formatIPv4(buf, off) : formatIPv6(buf, off);
}

export function failureReason(errno: number): string {
  switch (errno) {
    case 111: return 'refused';
    case 110: return 'timed_out';
    case 104: return 'reset';
    case 113: return 'host_unreachable';
    case 101: return 'network_unreachable';
    default: return errno ? `errno_${errno}` : 'aborted';
  }
}
