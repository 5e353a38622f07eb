// One scan of a proc root: every process (bounded), what it runs, who owns it, what it listens on. Per-process
// facts that only change on exec (executable, cmdline, environment, cgroup, runtime) are cached by
// (pid, start time, executable) so a periodic rescan costs little more than a readdir, a stat and the fd table.
import { basename } from 'node:path';
import type { ListeningPort, ProcessInfo, RuntimeName } from './catalog.js';
import { containerIdFromCgroup } from './container-id.js';
import { listDir, mapLimit, readBounded, readLink, readText } from './proc-read.js';
import { detectRuntime } from './runtime.js';
import { listeningSockets } from './sockets.js';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on every Linux architecture we run on). */
const USER_HZ = 100;
const MAX_FDS_PER_PROCESS = 4096;
const MAX_CMDLINE_BYTES = 16 * 1024;
const MAX_ENVIRON_BYTES = 64 * 1024;

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
}

interface StatFields { comm: string; ppid: number; startTicks: number }

/** Parse /proc/<pid>/stat. comm sits in parentheses and may itself hold spaces, ')' or newlines: split at the LAST ')'. */
export function parseStat(text: string): StatFields | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const rest = text.slice(close + 2).split(' ');
  const ppid = Number(rest[1]);
  const startTicks = Number(rest[19]);
  if (!Number.isFinite(ppid) || !Number.isFinite(startTicks)) return undefined;
  return { comm: text.slice(open + 1, close), ppid, startTicks };
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

  constructor(private readonly opts: ScanOptions) {
    this.opts = { ...opts };
  }

  async scan(): Promise<ScanResult> {
    const started = performance.now();
    const { procRoot } = this.opts;
    const entries = (await listDir(procRoot)) ?? [];
    const pids = entries.filter((e) => /^\d+$/.test(e)).map(Number).sort((a, b) => a - b);
    const dropped = Math.max(0, pids.length - this.opts.maxProcesses);
    const tracked = pids.slice(0, this.opts.maxProcesses);
    await this.readBootTime();
    const users = parsePasswd((await readText(this.opts.passwdPath, 1024 * 1024)) ?? '');
    const socketsByNetns = new Map<string, Promise<Map<number, ListeningPort>>>();
    const processes = new Map<number, ProcessInfo>();
    let skipped = 0;
    await mapLimit(tracked, this.opts.concurrency, async (pid) => {
      try {
        const info = await this.readProcess(pid, users, socketsByNetns);
        if (info) processes.set(pid, info);
        else skipped++;
      } catch {
        skipped++; // never let one odd process break the scan
      }
    });
    for (const pid of this.cache.keys()) if (!processes.has(pid)) this.cache.delete(pid);
    return { processes, dropped, skipped, durationMs: performance.now() - started };
  }

  /** Read one process now (after an exec event); undefined when it is gone, unreadable or a kernel thread. */
  async scanOne(pid: number): Promise<ProcessInfo | undefined> {
    await this.readBootTime();
    const users = parsePasswd((await readText(this.opts.passwdPath, 1024 * 1024)) ?? '');
    try {
      return await this.readProcess(pid, users, new Map());
    } catch {
      return undefined;
    }
  }

  setMaxProcesses(n: number): void {
    this.opts.maxProcesses = n;
  }

  forget(pid: number): void {
    this.cache.delete(pid);
  }

  private async readBootTime(): Promise<void> {
    if (this.bootTimeMs) return;
    const stat = await readText(`${this.opts.procRoot}/stat`);
    const m = stat ? /^btime\s+(\d+)/m.exec(stat) : null;
    this.bootTimeMs = m ? Number(m[1]) * 1000 : 0;
  }

  private async readProcess(
    pid: number,
    users: Map<number, string>,
    socketsByNetns: Map<string, Promise<Map<number, ListeningPort>>>,
  ): Promise<ProcessInfo | undefined> {
    const dir = `${this.opts.procRoot}/${pid}`;
    const [statText, statusText, exeLink] = await Promise.all([
      readText(`${dir}/stat`, 4096), readText(`${dir}/status`, 8192), readLink(`${dir}/exe`),
    ]);
    const stat = statText ? parseStat(statText) : undefined;
    if (!stat) return undefined;
    const exePath = (exeLink ?? '').replace(/ \(deleted\)$/, '');
    const facts = await this.staticFacts(pid, dir, stat.startTicks, exePath);
    if (!facts) return undefined;
    const uidMatch = statusText ? /^Uid:\s+(\d+)/m.exec(statusText) : null;
    const uid = uidMatch ? Number(uidMatch[1]) : -1;
    const ports = await this.ports(pid, dir, socketsByNetns);
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
    if (cached && cached.startTicks === startTicks && cached.exePath === exePath) return cached;
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
      runtime: rt.runtime, runtimeVersion: rt.version,
    };
    this.cache.set(pid, facts);
    return facts;
  }

  private async ports(pid: number, dir: string, socketsByNetns: Map<string, Promise<Map<number, ListeningPort>>>): Promise<ListeningPort[]> {
    const netns = (await readLink(`${dir}/ns/net`)) ?? 'unknown';
    let tablePromise = socketsByNetns.get(netns);
    if (!tablePromise) {
      tablePromise = listeningSockets(this.opts.procRoot, pid);
      socketsByNetns.set(netns, tablePromise);
    }
    const table = await tablePromise;
    if (table.size === 0) return [];
    const fds = ((await listDir(`${dir}/fd`)) ?? []).slice(0, MAX_FDS_PER_PROCESS);
    const links = await mapLimit(fds, 64, (fd) => readLink(`${dir}/fd/${fd}`));
    const found = new Map<string, ListeningPort>();
    for (const link of links) {
      if (!link?.startsWith('socket:[')) continue;
      const p = table.get(Number(link.slice(8, -1)));
      if (p) found.set(`${p.protocol}/${p.port}`, p);
    }
    return [...found.values()].sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol));
  }
}
