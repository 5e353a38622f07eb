// Listening sockets from /proc/<pid>/net/{tcp,tcp6,udp,udp6}: socket inode → port. Read per network namespace
// (through a pid living in it) so containerised processes get their own tables.
import type { ListeningPort } from './catalog.js';
import { listDirSync, readLinkSync, readTextSync } from './proc-read.js';

const TCP_LISTEN = '0A';
/** UDP sockets have no LISTEN state: a bound socket with no remote peer (rem_address port 0) is a "listener". */
const UDP_UNCONNECTED = '07';

/**
 * The rows of one /proc/net/{tcp,udp}[6] table: local and remote endpoint (`HEXADDR:HEXPORT`), state (hex, as
 * printed) and socket inode; the header and lines without those columns are skipped. The one tokenizer of these
 * tables: discovery keeps the listeners, the HTTP tracer the connections it adopts.
 */
export function forEachSocketRow(text: string, row: (local: string, remote: string, state: string, inode: number) => void): void {
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i]!.trim().split(/\s+/);
    if (f.length < 10) continue;
    const inode = Number(f[9]);
    if (!Number.isInteger(inode) || inode <= 0) continue;
    row(f[1]!, f[2]!, f[3]!, inode);
  }
}

/** Parse one /proc/net/{tcp,udp}[6] table; malformed lines are skipped. */
export function parseSocketTable(text: string, protocol: 'tcp' | 'udp', into: Map<number, ListeningPort>): void {
  forEachSocketRow(text, (local, remote, state, inode) => {
    if (protocol === 'tcp' ? state !== TCP_LISTEN : state !== UDP_UNCONNECTED || !remote.endsWith(':0000')) return;
    const port = parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
    if (!Number.isInteger(port) || port <= 0 || port > 65535) return;
    into.set(inode, { port, protocol });
  });
}

/** The socket inodes behind `pid`'s first `maxFds` fds, each with the fds that hold it (a socket may be dup'ed). */
export function socketFds(procRoot: string, pid: number, maxFds: number): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const name of (listDirSync(`${procRoot}/${pid}/fd`) ?? []).slice(0, maxFds)) {
    const link = readLinkSync(`${procRoot}/${pid}/fd/${name}`);
    if (!link?.startsWith('socket:[')) continue;
    const inode = Number(link.slice(8, -1));
    const fds = out.get(inode);
    if (fds) fds.push(Number(name));
    else out.set(inode, [Number(name)]);
  }
  return out;
}

const TABLES: ReadonlyArray<[string, 'tcp' | 'udp']> = [['tcp', 'tcp'], ['tcp6', 'tcp'], ['udp', 'udp'], ['udp6', 'udp']];

/**
 * Every listening socket visible in the network namespace of `pid` (under `procRoot`). Read synchronously (the
 * kernel formats the table from memory; no lock of another process is taken) into a shared scratch buffer, so
 * a scan does not allocate four 4 MiB buffers.
 */
export function listeningSockets(procRoot: string, pid: number | 'self' = 'self'): Map<number, ListeningPort> {
  const out = new Map<number, ListeningPort>();
  for (const [f, protocol] of TABLES) {
    const t = readTextSync(`${procRoot}/${pid}/net/${f}`, 4 * 1024 * 1024);
    if (t) parseSocketTable(t, protocol, out);
  }
  return out;
}
