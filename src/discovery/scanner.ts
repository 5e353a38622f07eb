// One scan of a proc root: every process (bounded), what it runs, who owns it, what it listens on. Per-process
// facts that only change on exec (executable, cmdline, environment, cgroup, runtime) are cached by
// (pid, start time, executable), and so are the listening sockets a process holds: its fd table is walked again
// only when its network namespace gained a listening socket since the previous scan. A periodic rescan of a
// known process is then four small synchronous reads (stat, status, exe and ns/net links): ~20 µs.
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import type { ListeningPort, ProcessInfo, RuntimeName } from './catalog.js';
import { containerIdFromCgroup } from './container-id.js';
import { listDirSync, mapLimit, readBounded, readLinkSync, readText, readTextSync } from './proc-read.js';
import { detectRuntime, runtimeFromProcMaps } from './runtime.js';
import { listeningSockets, socketFds } from './sockets.js';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on every Linux architecture we run on). */
const USER_HZ = 100;
const MAX_FDS_PER_PROCESS = 4096;
const MAX_CMDLINE_BYTES = 16 * 1024;
const MAX_ENVIRON_BYTES = 64 * 1024;
/** How many later reads of a process may re-read its maps while its runtime is still unknown (bounded: most
 * processes of a host have no runtime to find, and a maps read costs ~0.5 ms). */
const RUNTIME_RETRIES = 3;

export interface ScanOptions {
  procRoot: string;
  /** /etc/passwd for uid → user name. */
  passwdPath: string;
  /** At most this many processes are tracked; the rest are counted in `dropped`. */
  maxProcesses: number;
  /** Processes read in parallel. */
  concurrency: number;
}

export interface ScanResult {
  processes: Map<number, ProcessInfo>;
  /** Processes over maxProcesses in this scan. */
  dropped: number;
  /** Processes that vanished or were unreadable mid-scan (normal churn, not a failure). */
  skipped: number;
  durationMs: number;
}

interface StaticFacts {
  startTicks: number;
  exePath: string;
  cmdline: string[];
  envServiceName: string;
  envServiceNamespace: string;
  containerId: string;
  runtime: RuntimeName;
  runtimeVersion: string;
  /** Re-reads of /proc/<pid>/maps left while the runtime is unknown (see staticFacts). */
  runtimeRetries: number;
  /** Listening-socket inodes found in the fd table at the last walk, and in which network namespace. */
  socketInodes?: number[];
  socketNetns?: string;
}

/** The listening sockets of one network namespace in this scan, and whether any is new since the previous one. */
interface NetnsTable { ports: Map<number, ListeningPort>; grew: boolean }

/** Processes read between two yields to the event loop (a scan of 20 000 processes must not stall it). */
const YIELD_EVERY = 64;
const TABLE_TTL_MS = 10_000;
const KTHREAD_RECHECK_SCANS = 10;
const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface StatFields { comm: string; ppid: number; startTicks: number; kernelThread: boolean }

/** PF_KTHREAD in the flags field of /proc/<pid>/stat. */
const PF_KTHREAD = 0x00200000;

/** Parse /proc/<pid>/stat. comm sits in parentheses and may itself hold spaces, ')' or newlines: split at the LAST ')'. */
export function parseStat(text: string): StatFields | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const rest = text.slice(close + 2).split(' ');
  const ppid = Number(rest[1]);
  const startTicks = Number(rest[19]);
  if (!Number.isFinite(ppid) || !Number.isFinite(startTicks)) return undefined;
  const flags = Number(rest[6]);
  return { comm: text.slice(open + 1, close), ppid, startTicks, kernelThread: Number.isFinite(flags) && (flags & PF_KTHREAD) !== 0 };
}

export function parsePasswd(text: string): Map<number, string> {
  const users = new Map<number, string>();
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length >= 3 && /^\d+$/.test(f[2]!)) users.set(Number(f[2]), f[0]!);
  }
  return users;
}

/** OTEL_SERVICE_NAME, else service.name in OTEL_RESOURCE_ATTRIBUTES; same for the namespace. */
export function serviceFromEnviron(environ: Buffer): { name: string; namespace: string } {
  let name = '';
  let namespace = '';
  let attrs = '';
  for (const entry of environ.toString('utf8').split('\0')) {
    if (entry.startsWith('OTEL_SERVICE_NAME=')) name = entry.slice(18).trim();
    else if (entry.startsWith('OTEL_SERVICE_NAMESPACE=')) namespace = entry.slice(23).trim();
    else if (entry.startsWith('OTEL_RESOURCE_ATTRIBUTES=')) attrs = entry.slice(25);
  }
  for (const kv of attrs.split(',')) {
    const eq = kv.indexOf('=');
    if (eq < 0) continue;
    const k = kv.slice(0, eq).trim();
    const v = decodeURIComponentSafe(kv.slice(eq + 1).trim());
    if (k === 'service.name' && !name) name = v;
    if (k === 'service.namespace' && !namespace) namespace = v;
  }
  return { name, namespace };
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export class ProcScanner {
  private readonly cache = new Map<number, StaticFacts>();
  private bootTimeMs = 0;
  /** Listening-socket inodes of each network namespace at the previous scan (replaced by every scan). */
  private lastInodes = new Map<string, Set<number>>();
  private users?: { key: string; map: Map<number, string> };
  /**
   * Pids of kernel threads seen by the last scan: not read again while they exist (a third of /proc, typically).
   * Forgotten every KTHREAD_RECHECK_SCANS scans, so a pid reused by a process (pid wrap) is seen at the latest then.
   */
  private kernelThreads = new Set<number>();
  private scans = 0;
  /** Socket tables shared by scanOne reads for TABLE_TTL_MS (reading tcp+tcp6 costs ~2.8 ms on this host). */
  private oneShotTables: { at: number; tables: Map<string, NetnsTable> } = { at: 0, tables: new Map() };

  constructor(private readonly opts: ScanOptions) {
    this.opts = { ...opts };
  }

  async scan(): Promise<ScanResult> {
    const started = performance.now();
    const { procRoot } = this.opts;
    const entries = listDirSync(procRoot) ?? [];
    const pids = entries.filter((e) => /^\d+$/.test(e)).map(Number).sort((a, b) => a - b);
    const dropped = Math.max(0, pids.length - this.opts.maxProcesses);
    const tracked = pids.slice(0, this.opts.maxProcesses);
    this.readBootTime();
    const users = this.readUsers();
    const tables = new Map<string, NetnsTable>();
    const processes = new Map<number, ProcessInfo>();
    const misses: number[] = [];
    const kernelThreads = new Set<number>();
    if (++this.scans % KTHREAD_RECHECK_SCANS === 0) this.kernelThreads.clear();
    let skipped = 0;
    // Known processes first, synchronously (a few µs each), yielding now and then.
    for (let i = 0; i < tracked.length; i++) {
      if (i > 0 && i % YIELD_EVERY === 0) await yieldToLoop();
      const pid = tracked[i]!;
      if (this.kernelThreads.has(pid)) {
        kernelThreads.add(pid);
        skipped++;
        continue;
      }
      try {
        const r = this.readKnown(pid, users, tables, kernelThreads);
        if (r === 'miss') misses.push(pid);
        else if (r) processes.set(pid, r);
        else skipped++;
      } catch {
        skipped++; // never let one odd process break the scan
      }
    }
    // New (or re-exec'd) processes: their cmdline, environ and maps are read asynchronously.
    await mapLimit(misses, this.opts.concurrency, async (pid) => {
      try {
        const info = await this.readProcess(pid, users, tables);
        if (info) processes.set(pid, info);
        else skipped++;
      } catch {
        skipped++;
      }
    });
    for (const pid of this.cache.keys()) if (!processes.has(pid)) this.cache.delete(pid);
    this.lastInodes = new Map([...tables].map(([ns, t]) => [ns, new Set(t.ports.keys())]));
    this.kernelThreads = kernelThreads;
    return { processes, dropped, skipped, durationMs: performance.now() - started };
  }

  /** Read one process now (after an exec event); undefined when it is gone, unreadable or a kernel thread. */
  async scanOne(pid: number): Promise<ProcessInfo | undefined> {
    this.readBootTime();
    // Exec events come in bursts: their reads share socket tables read within the last TABLE_TTL_MS (a process
    // seldom listens at exec already; the re-read 2 s later starts with fresh tables: freshTables()).
    if (performance.now() - this.oneShotTables.at > TABLE_TTL_MS) this.freshTables();
    try {
      return await this.readProcess(pid, this.readUsers(), this.oneShotTables.tables);
    } catch {
      return undefined;
    }
  }

  /** The next scanOne reads the socket tables again (before a batch of re-reads for new listeners). */
  freshTables(): void {
    this.oneShotTables = { at: performance.now(), tables: new Map() };
  }

  setMaxProcesses(n: number): void {
    this.opts.maxProcesses = n;
  }

  forget(pid: number): void {
    this.cache.delete(pid);
  }

  private readBootTime(): void {
    if (this.bootTimeMs) return;
    const stat = readTextSync(`${this.opts.procRoot}/stat`);
    const m = stat ? /^btime\s+(\d+)/m.exec(stat) : null;
    this.bootTimeMs = m ? Number(m[1]) * 1000 : 0;
  }

  /** uid → name from the passwd file, parsed again only when the file changed (size and mtime). */
  private readUsers(): Map<number, string> {
    let key = '';
    try {
      const st = statSync(this.opts.passwdPath);
      key = `${st.size}:${st.mtimeMs}:${st.ino}`;
    } catch { /* unreadable: no names */ }
    if (this.users?.key === key) return this.users.map;
    const map = key ? parsePasswd(readTextSync(this.opts.passwdPath, 1024 * 1024) ?? '') : new Map<number, string>();
    this.users = { key, map };
    return map;
  }

  /** The cheap, per-scan part of a process: stat, status and links. */
  private readLive(pid: number, kernelThreads?: Set<number>): { dir: string; stat: StatFields; statusText?: string; exePath: string } | undefined {
    const dir = `${this.opts.procRoot}/${pid}`;
    const statText = readTextSync(`${dir}/stat`, 4096);
    const stat = statText ? parseStat(statText) : undefined;
    // Kernel threads are not services: known from stat alone, and not read again while their pid exists.
    if (stat?.kernelThread) kernelThreads?.add(pid);
    if (!stat || stat.kernelThread) return undefined;
    const statusText = readTextSync(`${dir}/status`, 8192);
    const exePath = (readLinkSync(`${dir}/exe`) ?? '').replace(/ \(deleted\)$/, '');
    return { dir, stat, statusText, exePath };
  }

  /** A process whose static facts are cached: read synchronously. 'miss' when they are not (new or re-exec'd). */
  private readKnown(
    pid: number, users: Map<number, string>, tables: Map<string, NetnsTable>, kernelThreads: Set<number>,
  ): ProcessInfo | undefined | 'miss' {
    const live = this.readLive(pid, kernelThreads);
    if (!live) return undefined;
    const cached = this.cache.get(pid);
    if (!cached || cached.startTicks !== live.stat.startTicks || cached.exePath !== live.exePath) return 'miss';
    if (cached.runtime === 'unknown' && cached.runtimeRetries > 0) return 'miss'; // its maps are looked at again
    return this.assemble(pid, live, cached, users, tables);
  }

  private async readProcess(pid: number, users: Map<number, string>, tables: Map<string, NetnsTable>): Promise<ProcessInfo | undefined> {
    const live = this.readLive(pid);
    if (!live) return undefined;
    const facts = await this.staticFacts(pid, live.dir, live.stat.startTicks, live.exePath);
    if (!facts) return undefined;
    return this.assemble(pid, live, facts, users, tables);
  }

  private assemble(
    pid: number, live: { dir: string; stat: StatFields; statusText?: string; exePath: string }, facts: StaticFacts,
    users: Map<number, string>, tables: Map<string, NetnsTable>,
  ): ProcessInfo {
    const { stat, statusText, exePath } = live;
    const uidMatch = statusText ? /^Uid:\s+(\d+)/m.exec(statusText) : null;
    const uid = uidMatch ? Number(uidMatch[1]) : -1;
    const ports = this.ports(pid, live.dir, facts, tables);
    const exeName = exePath ? basename(exePath) : stat.comm;
    return {
      pid,
      ppid: stat.ppid,
      comm: stat.comm,
      exePath,
      exeName,
      cmdline: facts.cmdline,
      uid,
      user: users.get(uid) ?? (uid >= 0 ? String(uid) : ''),
      startTimeMs: this.bootTimeMs + (stat.startTicks * 1000) / USER_HZ,
      ports,
      runtime: facts.runtime,
      runtimeVersion: facts.runtimeVersion,
      containerId: facts.containerId,
      serviceName: facts.envServiceName || exeName,
      serviceNamespace: facts.envServiceNamespace,
    };
  }

  private async staticFacts(pid: number, dir: string, startTicks: number, exePath: string): Promise<StaticFacts | undefined> {
    const cached = this.cache.get(pid);
    if (cached && cached.startTicks === startTicks && cached.exePath === exePath) {
      // A process read right at exec has not mapped its shared libraries yet (an embedded JVM or interpreter under
      // a launcher): while the runtime is unknown, the next few reads of the process (its first LISTEN, rescans)
      // look at its maps again. The name and Go build info cannot change after exec: only the maps are re-read.
      if (cached.runtime === 'unknown' && cached.runtimeRetries > 0) {
        cached.runtimeRetries--;
        const byLib = await runtimeFromProcMaps(this.opts.procRoot, pid);
        if (byLib) cached.runtime = byLib;
      }
      return cached;
    }
    const [cmdlineBuf, environ, cgroup] = await Promise.all([
      readBounded(`${dir}/cmdline`, MAX_CMDLINE_BYTES), readBounded(`${dir}/environ`, MAX_ENVIRON_BYTES), readText(`${dir}/cgroup`, 16 * 1024),
    ]);
    const cmdline = cmdlineBuf ? cmdlineBuf.toString('utf8').split('\0') : [];
    while (cmdline.length && cmdline[cmdline.length - 1] === '') cmdline.pop();
    // Kernel threads have neither an executable nor a command line: they are not services.
    if (!exePath && cmdline.length === 0) return undefined;
    const svc = environ ? serviceFromEnviron(environ) : { name: '', namespace: '' };
    const rt = await detectRuntime(this.opts.procRoot, pid, exePath);
    const facts: StaticFacts = {
      startTicks, exePath, cmdline,
      envServiceName: svc.name, envServiceNamespace: svc.namespace,
      containerId: cgroup ? containerIdFromCgroup(cgroup) : '',
      runtime: rt.runtime, runtimeVersion: rt.version, runtimeRetries: RUNTIME_RETRIES,
    };
    this.cache.set(pid, facts);
    return facts;
  }

  /** The listening sockets of `netns` (through `pid`), and whether any is new since the previous periodic scan. */
  private loadTable(netns: string, pid: number, tables: Map<string, NetnsTable>): NetnsTable {
    const ports = listeningSockets(this.opts.procRoot, pid);
    const before = this.lastInodes.get(netns);
    let grew = before === undefined;
    if (before) for (const inode of ports.keys()) if (!before.has(inode)) { grew = true; break; }
    const table = { ports, grew };
    tables.set(netns, table);
    return table;
  }

  /**
   * The ports `pid` listens on: the listening sockets of its network namespace (read once per namespace per
   * scan) that are among its open fds. The fd table is walked only when the namespace gained a listening socket
   * since the previous scan, or the process was not walked before; otherwise the sockets found last time that
   * still listen are its ports (a process cannot acquire an existing socket without a new fd: fork makes a new
   * pid, fd passing is the rare exception, caught at the next new listener).
   */
  private ports(pid: number, dir: string, facts: StaticFacts, tables: Map<string, NetnsTable>): ListeningPort[] {
    const netns = readLinkSync(`${dir}/ns/net`) ?? 'unknown';
    // A periodic scan reads each namespace's table once, up front: it decides whether cached sockets still hold.
    // One-shot reads (exec events) read it only for a process that has sockets at all.
    const periodic = tables !== this.oneShotTables.tables;
    const table = tables.get(netns) ?? (periodic ? this.loadTable(netns, pid, tables) : undefined);
    let inodes: number[];
    if (table && !table.grew && facts.socketNetns === netns && facts.socketInodes) {
      inodes = facts.socketInodes.filter((i) => table.ports.has(i));
    } else {
      // Walk the fd table for sockets first: a process with none (most just exec'd ones) needs no socket table.
      const sockets = [...socketFds(this.opts.procRoot, pid, MAX_FDS_PER_PROCESS).keys()];
      const t = table ?? (sockets.length ? this.loadTable(netns, pid, tables) : undefined);
      inodes = t ? sockets.filter((i) => t.ports.has(i)) : [];
      // Without a table read this scan there is nothing to compare against next time: walk again then.
      if (!t) {
        facts.socketInodes = undefined;
        return [];
      }
    }
    facts.socketInodes = inodes;
    facts.socketNetns = netns;
    const ports = tables.get(netns)!.ports;
    const found = new Map<string, ListeningPort>();
    for (const inode of inodes) {
      const p = ports.get(inode)!;
      found.set(`${p.protocol}/${p.port}`, p);
    }
    // Plain comparison: localeCompare pages in ICU collation data (~3 MB resident, measured).
    return [...found.values()].sort((a, b) => a.port - b.port || (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0));
  }
}
