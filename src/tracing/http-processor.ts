// From capture events to spans and RED observations: a bounded table of connections (LRU + idle expiry),
// HTTP parsing per connection, trace-context rules, span building. No eBPF here, so it is tested on its own
// with the same events the kernel produces.
import { networkInterfaces } from 'node:os';
import type { Resource } from '../model/attributes.js';
import type { Span } from '../model/span.js';
import { HttpConnection, type ConnectionDropReason, type ConnectionInfo, type HttpExchange, type PeerSlot } from './http-connection.js';
import { Direction, HttpEventType, HttpFlags, Role, type HttpEvent } from './http-event.js';
import { RouteMatcher } from './route.js';
import { buildSpan, type BuiltSpan } from './span-builder.js';
import { adopt, childOf, rootContext, type TraceCtx } from './span-context.js';
import type { HttpMessage } from './http-stream-parser.js';

export type DropReason = ConnectionDropReason | 'connection_evicted' | 'connection_id_clash';

export interface ProcessorOptions {
  keepQuery: boolean;
  routePatterns: readonly string[];
  maxConnections: number;
  /** CLOCK_MONOTONIC ns → Unix epoch ns. */
  toWall(monotonicNs: bigint): bigint;
  resourceFor(pid: number): Resource;
  onSpan(built: BuiltSpan, kind: 'server' | 'client', durationSeconds: number): void;
  onDrop(reason: DropReason): void;
}

/** A connection whose inferred-end response has been quiet this long is flushed. */
const INFERRED_FLUSH_MS = 2000;
/** Connections with no traffic for this long are forgotten (a missed close). */
const IDLE_CONNECTION_MS = 10 * 60_000;
/** Bounds of the trace-context side tables. */
const MAX_THREADS = 16384;
const MAX_PEER_KEYS = 16384;

export class HttpProcessor {
  /** By conn_id (unique per connection instance: the kernel's accept/connect timestamp). */
  private readonly conns = new Map<number, HttpConnection<TraceCtx>>();
  /**
   * What each thread is serving now: client calls it makes become children. A thread's entry is emptied, not
   * deleted, when its request ends (a thread serves request after request: deleting the only entry of a small
   * Map reallocates its table every time); dead threads' entries go by the MAX_THREADS bound.
   */
  private readonly serving = new Map<number, TraceCtx | undefined>();
  /** Both ends on this host: one slot per server→client 4-tuple, shared by the two connections. */
  private readonly peerSlots = new Map<string, PeerSlot>();
  private routes: RouteMatcher;
  private readonly resources = new Map<number, { r: Resource; at: number }>();
  readonly stats = { events: 0, spans: 0, server: 0, client: 0, connectionsOpened: 0 };
  /**
   * Wall-clock ms used for activity times and caches: set once per burst of events by the owner (a clock read per
   * event costs more than the precision is worth: idle expiry and the resource cache work in seconds).
   */
  now = Date.now();

  constructor(private opts: ProcessorOptions) {
    this.routes = new RouteMatcher(opts.routePatterns);
  }

  reconfigure(opts: Pick<ProcessorOptions, 'keepQuery' | 'routePatterns' | 'maxConnections'>): void {
    this.opts = { ...this.opts, ...opts };
    this.routes = new RouteMatcher(opts.routePatterns);
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  handle(ev: HttpEvent): void {
    this.stats.events++;
    const key = ev.connId;
    let conn = this.conns.get(key);
    if (conn && (conn.info.pid !== ev.pid || conn.info.fd !== ev.fd)) {
      // Two connections opened in the same nanosecond on two CPUs: never mix their streams.
      this.opts.onDrop('connection_id_clash');
      return;
    }
    if (ev.type === HttpEventType.CLOSE) {
      if (conn) {
        this.conns.delete(key);
        this.closeConnection(conn);
      }
      return;
    }
    if (ev.type !== HttpEventType.DATA) return;
    if (!conn) {
      // The kernel may reuse (pid, fd) for a new connection before we saw the old one's close.
      conn = new HttpConnection<TraceCtx>(this.attachPeer(infoOf(ev)), this.hooks, this.now);
      this.stats.connectionsOpened++;
      this.insert(key, conn);
    }
    if (conn.finished) return;
    // Bytes before this event were not seen (kernel shedding, or a connection registered mid-stream).
    if (ev.flags & HttpFlags.RESYNC) conn.resync();
    // The event is a Chunk itself (read in place; the parser copies what it keeps).
    conn.feed(ev.direction === Direction.INGRESS, ev, this.now);
  }

  /** Periodic housekeeping: flush quiet inferred responses, forget idle connections and stale resources. */
  sweep(nowMs = Date.now()): void {
    for (const [key, conn] of this.conns) {
      const idle = nowMs - conn.lastActivityMs;
      if (idle > IDLE_CONNECTION_MS) {
        this.conns.delete(key);
        this.closeConnection(conn);
      } else if (idle > INFERRED_FLUSH_MS) {
        conn.flushInferred();
      }
    }
    for (const [pid, e] of this.resources) if (nowMs - e.at > 30_000) this.resources.delete(pid);
  }

  /** Everything in flight ends (stop): inferred responses are emitted, the rest abandoned. */
  closeAll(): void {
    for (const conn of this.conns.values()) this.closeConnection(conn);
    this.conns.clear();
    this.serving.clear();
    this.peerSlots.clear();
  }

  /** Discovery learned something new about a process: its next span picks up the new resource. */
  forgetResource(pid: number): void {
    this.resources.delete(pid);
  }

  private insert(key: number, conn: HttpConnection<TraceCtx>): void {
    if (this.conns.size >= this.opts.maxConnections) {
      // Full (rare: the kernel map has the same bound): evict the least recently active tenth in one pass.
      const byAge = [...this.conns.entries()].sort((a, b) => a[1].lastActivityMs - b[1].lastActivityMs);
      for (const [k, c] of byAge.slice(0, Math.max(1, Math.floor(byAge.length / 10)))) {
        this.closeConnection(c);
        this.conns.delete(k);
        this.opts.onDrop('connection_evicted');
      }
    }
    this.conns.set(key, conn);
  }

  private closeConnection(conn: HttpConnection<TraceCtx>): void {
    conn.close();
    const slot = conn.info.peer;
    if (slot && --slot.refs <= 0) this.peerSlots.delete(pairKey(conn.info));
  }

  /** Local peers share a slot (one map lookup per connection, none per request). */
  private attachPeer(info: ConnectionInfo): ConnectionInfo {
    if (!info.peerMayBeLocal) return info;
    const key = pairKey(info);
    let slot = this.peerSlots.get(key);
    if (!slot) {
      if (this.peerSlots.size >= MAX_PEER_KEYS) return info;
      slot = { clients: [], servers: [], refs: 0 };
      this.peerSlots.set(key, slot);
    }
    slot.refs++;
    info.peer = slot;
    return info;
  }

  private resourceFor(pid: number): Resource {
    const now = this.now;
    const cached = this.resources.get(pid);
    // Short-lived cache: discovery may learn the process's name a moment after its first request.
    if (cached && now - cached.at < 5000) return cached.r;
    const r = this.opts.resourceFor(pid);
    if (this.resources.size > 4096) this.resources.clear();
    this.resources.set(pid, { r, at: now });
    return r;
  }

  private readonly hooks = {
    onRequest: (conn: ConnectionInfo, request: HttpMessage): TraceCtx => this.startRequest(conn, request),
    onExchange: (ex: HttpExchange<TraceCtx>): void => this.finishExchange(ex),
    onAbandoned: (conn: ConnectionInfo, ctx: TraceCtx): void => this.release(conn, ctx),
    onDrop: (reason: ConnectionDropReason): void => this.opts.onDrop(reason),
  };

  /**
   * Trace-context rules (docs/http-tracing.md): a traceparent in the request wins. Otherwise a server request
   * whose client end is traced on this host becomes that client span's child; a client request made by a thread
   * while it serves a request becomes the served span's child.
   */
  private startRequest(conn: ConnectionInfo, request: HttpMessage): TraceCtx {
    const h = request.head.headers;
    const tid = request.first.tid;
    const slot = conn.peer;
    if (conn.role === 'server') {
      const ctx = rootContext(h.traceparent, h.tracestate);
      if (!ctx.parentSpanId && slot) {
        const client = shift(slot.clients as TraceCtx[]);
        if (client) adopt(ctx, client);
        else push(slot.servers as TraceCtx[], ctx);
      }
      ctx.servingKey = threadKey(conn.pid, tid);
      setBounded(this.serving, ctx.servingKey, ctx, MAX_THREADS);
      return ctx;
    }
    let ctx: TraceCtx;
    if (h.traceparent && (ctx = rootContext(h.traceparent, h.tracestate)).parentSpanId) return ctx;
    const parent = this.serving.get(threadKey(conn.pid, tid));
    ctx = parent ? childOf(parent) : rootContext();
    if (slot) {
      const server = shift(slot.servers as TraceCtx[]);
      if (server) adopt(server, ctx);
      else push(slot.clients as TraceCtx[], ctx);
    }
    return ctx;
  }

  private release(conn: ConnectionInfo, ctx: TraceCtx): void {
    if (ctx.queued && conn.peer) remove((conn.role === 'server' ? conn.peer.servers : conn.peer.clients) as TraceCtx[], ctx);
    if (ctx.servingKey !== undefined && this.serving.get(ctx.servingKey) === ctx) this.serving.set(ctx.servingKey, undefined);
  }

  private finishExchange(ex: HttpExchange<TraceCtx>): void {
    const server = ex.conn.role === 'server';
    // Server: from the read that returned the request to the write that sent its last byte. Client: from the
    // write that began sending the request to the read that returned the response's last byte.
    const startMono = server ? ex.request.first.tsExit : ex.request.first.tsEnter;
    const endMono = ex.response.last.tsExit;
    this.release(ex.conn, ex.context);
    const built = buildSpan(ex, { startNs: this.opts.toWall(BigInt(startMono)), endNs: this.opts.toWall(BigInt(endMono)) },
      this.resourceFor(ex.conn.pid), this.routes, this.opts.keepQuery);
    this.stats.spans++;
    this.stats[server ? 'server' : 'client']++;
    const seconds = endMono > startMono ? (endMono - startMono) / 1e9 : 0;
    this.opts.onSpan(built, server ? 'server' : 'client', seconds);
    this.shapeAnchors[server ? 0 : 1] = { ex, built };
  }

  /**
   * The last exchange and span of each kind, kept alive on purpose. Between two bursts of traffic every object
   * they are made of may die; a full GC then also frees their hidden classes (V8 holds map transitions weakly)
   * and throws away all the optimized code that depended on them ("weak objects" deopts): each burst after a
   * full GC was re-run in the interpreter and recompiled. One live instance per kind keeps those classes.
   */
  private readonly shapeAnchors: Array<{ ex: HttpExchange<TraceCtx>; built: BuiltSpan } | undefined> = [undefined, undefined];
}

function infoOf(ev: HttpEvent): ConnectionInfo {
  const remoteAddress = ev.raddr;
  const info: ConnectionInfo = {
    pid: ev.pid, fd: ev.fd, role: ev.role === Role.CLIENT ? 'client' : 'server',
    localAddress: ev.laddr, localPort: ev.lport, remoteAddress, remotePort: ev.rport,
    peerMayBeLocal: remoteAddress.startsWith('127.') || localAddresses().has(remoteAddress),
  };
  pairKeys.set(info, info.role === 'server'
    ? `${info.localAddress}:${info.localPort}>${info.remoteAddress}:${info.remotePort}`
    : `${info.remoteAddress}:${info.remotePort}>${info.localAddress}:${info.localPort}`);
  return info;
}

const pairKeys = new WeakMap<ConnectionInfo, string>();

let addrs: { set: Set<string>; at: number } | undefined;
/** Addresses of this host (loopback included), refreshed every 30 s: only peers there can be traced too. */
function localAddresses(): Set<string> {
  const now = Date.now();
  if (!addrs || now - addrs.at > 30_000) {
    const set = new Set<string>(['127.0.0.1', '::1']);
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) set.add(a.address);
    addrs = { set, at: now };
  }
  return addrs.set;
}

/** The connection as the server sees it: server address → client address (computed once per connection). */
function pairKey(c: ConnectionInfo): string {
  return pairKeys.get(c)!;
}

function shift(q: TraceCtx[]): TraceCtx | undefined {
  const v = q.shift();
  if (v) v.queued = false;
  return v;
}

function push(q: TraceCtx[], v: TraceCtx): void {
  if (q.length >= 64) q.shift()!.queued = false;
  q.push(v);
  v.queued = true;
}

function remove(q: TraceCtx[], v: TraceCtx): void {
  const i = q[0] === v ? 0 : q.indexOf(v);
  if (i === 0) q.shift();
  else if (i > 0) q.splice(i, 1);
  v.queued = false;
}

function setBounded<V>(m: Map<number, V | undefined>, key: number, v: V, max: number): void {
  if (m.size >= max && !m.has(key)) m.delete(m.keys().next().value as number);
  m.set(key, v);
}

/** pid and tid in one number (pid_max ≤ 2^22, so it stays below 2^53). */
const threadKey = (pid: number, tid: number): number => pid * 4194304 + (tid % 4194304);

export type { Span };
