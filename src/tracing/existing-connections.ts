// Connections that were already open when tracing began (an agent restart, a process selected after it
// connected): the kernel only registers connections at accept/connect, so without this every keep-alive
// connection stays invisible until it reconnects. They are found from /proc — the process's socket fds
// (/proc/<pid>/fd/<n> → socket:[inode]) joined with its network namespace's TCP table (/proc/<pid>/net/tcp{,6}:
// 4-tuple and state by inode) — and written into http_conns like the kernel would, flagged HTTP_F_RESYNC so the
// parser starts at the next message boundary (it never saw the connection's start; a response whose request it
// did not see yields no span). Role: server when the local port is one the process listens on.
//
// Why a scan and not a kernel-side "unknown fd" notification: the notification would cost every read/write of
// every non-connection fd on the host (files, pipes) a second lookup and a socket check, forever, to learn about
// connections that exist only at two moments — tracer start, and a process becoming traced — which is when this
// runs. Entries are written with BPF_NOEXIST: a connection the kernel registered meanwhile is never overwritten,
// and a (pid, fd) is adopted once (deduplicated by the map itself). Bounded by the map (max_connections).
import { readFileSync, readlinkSync } from 'node:fs';
import { forEachSocketRow, socketFds } from '../discovery/sockets.js';
import type { BpfMap } from '../ebpf/core.js';
import { HttpFlags, Role } from './http-event.js';

/** sizeof(struct http_conn) in bpf/http.h, and its field offsets (checked against BTF in http-event.test.ts). */
export const HTTP_CONN_SIZE = 72;
export const HttpConnOffsets = {
  id: 0, pos: 8, role: 24, family: 25, lport: 26, rport: 28, shed: 30, last_dir: 31, laddr: 32, raddr: 48, flags: 64,
} as const;

const BPF_NOEXIST = 1;
const EEXIST = 17;
const TCP_ESTABLISHED = 0x01;
const TCP_CLOSE_WAIT = 0x08;
const TCP_LISTEN = 0x0a;
/** Socket fds looked at per process (a proxy with more is adopted in part; counted). */
const MAX_FDS_PER_PROCESS = 65536;

export interface TcpSocket {
  family: 2 | 10;
  /** Network byte order, as the kernel's skc_rcv_saddr / skc_daddr (IPv4: 4 bytes). */
  laddr: Buffer;
  raddr: Buffer;
  lport: number;
  rport: number;
  state: number;
}

export interface AdoptStats {
  /** Connections registered in the kernel map. */
  adopted: number;
  /** Already tracked (the kernel saw their accept/connect, or adopted before). */
  known: number;
  /** Could not be registered (map full, fd table too large). */
  failed: number;
}

/**
 * Parse /proc/<pid>/net/tcp or tcp6 into sockets by inode. Addresses are printed as the kernel's 32-bit words in
 * host order (%08X), so each word written back little-endian gives the network-order bytes.
 */
export function parseProcNetTcp(text: string, family: 2 | 10, into = new Map<number, TcpSocket>()): Map<number, TcpSocket> {
  forEachSocketRow(text, (localText, remoteText, stateText, inode) => {
    const local = parseEndpoint(localText, family);
    const remote = parseEndpoint(remoteText, family);
    const state = parseInt(stateText, 16);
    if (!local || !remote || Number.isNaN(state)) return;
    into.set(inode, { family, laddr: local.addr, raddr: remote.addr, lport: local.port, rport: remote.port, state });
  });
  return into;
}

function parseEndpoint(s: string, family: 2 | 10): { addr: Buffer; port: number } | undefined {
  const [hex, portHex] = s.split(':');
  const words = family === 2 ? 1 : 4;
  if (!hex || !portHex || hex.length !== words * 8 || !/^[0-9A-Fa-f]+$/.test(hex)) return undefined;
  const addr = Buffer.alloc(words * 4);
  for (let w = 0; w < words; w++) addr.writeUInt32LE(parseInt(hex.slice(w * 8, w * 8 + 8), 16), w * 4);
  const port = parseInt(portHex, 16);
  return Number.isInteger(port) && port >= 0 && port <= 65535 ? { addr, port } : undefined;
}

/** The kernel map entry for one adopted connection. */
export function encodeConn(id: bigint, role: number, s: TcpSocket): Buffer {
  const v = Buffer.alloc(HTTP_CONN_SIZE);
  const O = HttpConnOffsets;
  v.writeBigUInt64LE(id, O.id);
  v[O.role] = role;
  v[O.family] = s.family;
  v.writeUInt16LE(s.lport, O.lport);
  v.writeUInt16LE(s.rport, O.rport);
  s.laddr.copy(v, O.laddr);
  s.raddr.copy(v, O.raddr);
  v.writeUInt32LE(HttpFlags.RESYNC, O.flags);
  return v;
}

export class ExistingConnections {
  readonly totals: AdoptStats = { adopted: 0, known: 0, failed: 0 };
  /** Connection ids: CLOCK_MONOTONIC ns like the kernel's, made unique by stepping past the last one given. */
  private lastId = 0n;

  constructor(private readonly conns: BpfMap) {}

  /** Adopt the open TCP connections of these processes (one parse of the TCP table per network namespace). */
  adopt(pids: Iterable<number>): AdoptStats {
    const stats: AdoptStats = { adopted: 0, known: 0, failed: 0 };
    const tables = new Map<string, Map<number, TcpSocket>>();
    for (const pid of pids) {
      const fds = socketFds('/proc', pid, MAX_FDS_PER_PROCESS);
      if (fds.size === 0) continue;
      let ns: string;
      try {
        ns = readlinkSync(`/proc/${pid}/ns/net`);
      } catch {
        continue;
      }
      let table = tables.get(ns);
      if (!table) {
        table = new Map();
        for (const [file, family] of [['tcp', 2], ['tcp6', 10]] as const) {
          try {
            parseProcNetTcp(readFileSync(`/proc/${pid}/net/${file}`, 'latin1'), family, table);
          } catch {
            // no IPv6 in this namespace (or the process is gone)
          }
        }
        tables.set(ns, table);
      }
      this.adoptProcess(pid, fds, table, stats);
    }
    this.totals.adopted += stats.adopted;
    this.totals.known += stats.known;
    this.totals.failed += stats.failed;
    return stats;
  }

  /**
   * Forget every connection in the kernel map (capture resumes after a suspension: closes were not seen meanwhile,
   * so entries may name fds that now hold other sockets). Returns how many were removed.
   */
  forgetAll(): number {
    let n = 0;
    for (const { key } of this.conns.entries()) if (this.conns.delete(key)) n++;
    return n;
  }

  private adoptProcess(pid: number, fds: Map<number, number[]>, table: Map<number, TcpSocket>, stats: AdoptStats): void {
    // Ports this process listens on: its connections on them are the server side.
    const listening = new Set<number>();
    for (const inode of fds.keys()) {
      const s = table.get(inode);
      if (s?.state === TCP_LISTEN) listening.add(s.lport);
    }
    for (const [inode, list] of fds) {
      const s = table.get(inode);
      if (!s || (s.state !== TCP_ESTABLISHED && s.state !== TCP_CLOSE_WAIT)) continue;
      const role = listening.has(s.lport) ? Role.SERVER : Role.CLIENT;
      for (const fd of list) {
        const key = Buffer.alloc(8);
        key.writeUInt32LE(pid, 0);
        key.writeUInt32LE(fd, 4);
        try {
          this.conns.update(key, encodeConn(this.nextId(), role, s), BPF_NOEXIST);
          stats.adopted++;
        } catch (e) {
          if ((e as { errno?: number }).errno === EEXIST) stats.known++;
          else stats.failed++;
        }
      }
    }
  }

  private nextId(): bigint {
    const now = process.hrtime.bigint();
    this.lastId = now > this.lastId ? now : this.lastId + 1n;
    return this.lastId;
  }
}
