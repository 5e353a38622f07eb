// Listening sockets from /proc/<pid>/net/{tcp,tcp6,udp,udp6}: socket inode → port. Read per network namespace
// (through a pid living in it) so containerised processes get their own tables.
import type { ListeningPort } from './catalog.js';
import { readTextSync } from './proc-read.js';

const TCP_LISTEN = '0A';
/** UDP sockets have no LISTEN state: a bound socket with no remote peer (rem_address port 0) is a "listener". */
const UDP_UNCONNECTED = '07';

/** Parse one /proc/net/{tcp,udp}[6] table; malformed lines are skipped. */
export function parseSocketTable(text: string, protocol: 'tcp' | 'udp', into: Map<number, ListeningPort>): void {
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i]!.trim().split(/\s+/);
    if (f.length < 10) continue;
    const [local, remote, state, inodeText] = [f[1]!, f[2]!, f[3]!, f[9]!];
    if (protocol === 'tcp' ? state !== TCP_LISTEN : state !== UDP_UNCONNECTED || !remote.endsWith(':0000')) continue;
    const port = parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
    const inode = Number(inodeText);
    if (!Number.isInteger(port) || port <= 0 || port > 65535 || !Number.isInteger(inode) || inode <= 0) continue;
    into.set(inode, { port, protocol });
  }
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
