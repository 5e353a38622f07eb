// One traced TCP connection: a request stream and a response stream (which is which depends on the role),
// paired in order (pipelining), with informational 1xx responses skipped (Expect: 100-continue), HEAD/204/304
// bodiless, and 101 / CONNECT tunnels ending HTTP parsing on the connection.
import { HttpStreamParser, type Chunk, type Framing, type HttpMessage, type ParserDropReason } from './http-stream-parser.js';

export type ConnectionRole = 'server' | 'client';

export interface ConnectionInfo {
  pid: number;
  fd: number;
  role: ConnectionRole;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  /** The peer address belongs to this host (loopback or a local interface): its end may be traced too. */
  peerMayBeLocal: boolean;
  /** Shared with the other end's connection when both are traced here (set by the processor). */
  peer?: PeerSlot;
}

/** Requests seen on one end of a local connection, waiting for the other end to link them, in order. */
export interface PeerSlot {
  clients: unknown[];
  servers: unknown[];
  refs: number;
}

/** A request paired with its final response. */
export interface HttpExchange<C> {
  conn: ConnectionInfo;
  request: HttpMessage;
  response: HttpMessage;
  /** Whatever the owner attached to the request when its head was seen (trace context). */
  context: C;
}

export type ConnectionDropReason = ParserDropReason | 'pipeline_overflow' | 'unmatched_response' | 'unanswered_request'
  | 'resync_abandoned';

export interface ConnectionHooks<C> {
  /** A request head was parsed: attach a context (span ids) now, so children can find it while it is served. */
  onRequest(conn: ConnectionInfo, request: HttpMessage): C;
  onExchange(exchange: HttpExchange<C>): void;
  /** A request that will never be answered (connection closed or overflow): release its context. */
  onAbandoned(conn: ConnectionInfo, context: C): void;
  onDrop(reason: ConnectionDropReason): void;
}

/** Requests in flight per connection (pipelining depth) before the oldest is dropped. */
export const MAX_PIPELINED = 64;

/** Framings without a length are shared, never mutated (one fewer object per message). */
const NONE: Framing = { type: 'none' };
const CHUNKED: Framing = { type: 'chunked' };
const CLOSE: Framing = { type: 'close' };
const TUNNEL: Framing = { type: 'tunnel' };

interface Pending<C> {
  request: HttpMessage;
  context: C;
}

export class HttpConnection<C> {
  private readonly requests: HttpStreamParser;
  private readonly responses: HttpStreamParser;
  private readonly pending: Pending<C>[] = [];
  /** Responses whose head matched a request, awaiting their last byte (they complete in order). */
  private readonly answering: Array<{ response: HttpMessage; pending: Pending<C> }> = [];
  lastActivityMs: number;

  constructor(readonly info: ConnectionInfo, private readonly hooks: ConnectionHooks<C>, nowMs = Date.now()) {
    this.lastActivityMs = nowMs;
    const onDrop = (r: ParserDropReason): void => hooks.onDrop(r);
    const onLostSync = (): void => this.resync();
    this.requests = new HttpStreamParser({
      onHead: (m) => this.requestHead(m),
      onMessage: () => {},
      onDrop,
      onLostSync,
    });
    this.responses = new HttpStreamParser({
      onHead: (m) => this.responseHead(m),
      onMessage: (m) => this.responseDone(m),
      onDrop,
      onLostSync,
    });
  }

  /** `ingress`: bytes the process read; `egress`: bytes it wrote. `nowMs`: wall-clock ms (coarse is fine). */
  feed(ingress: boolean, chunk: Chunk, nowMs = Date.now()): void {
    this.lastActivityMs = nowMs;
    const isRequestStream = ingress === (this.info.role === 'server');
    (isRequestStream ? this.requests : this.responses).feed(chunk);
  }

  /** Nothing more will be parsed on this connection (not HTTP, or tunnelled). */
  get finished(): boolean {
    return this.requests.stopped && this.responses.stopped;
  }

  /** Bytes of parser state held (for the bound on memory). */
  get bufferedBytes(): number {
    return this.requests.bufferedBytes + this.responses.bufferedBytes;
  }

  /** Emit responses whose end is only inferred (the stream went quiet). */
  flushInferred(): void {
    this.responses.flushInferred();
  }

  /**
   * Part of the connection's traffic was not seen (shed by the kernel, lost, or the connection was already open
   * when tracing began): requests in flight can no longer be paired with certainty, so they are abandoned
   * (counted, no span) and both directions restart at their next message start. A response whose request was
   * not seen yields no span (unmatched_response).
   */
  resync(): void {
    for (const p of this.pending) this.abandon(p.context);
    for (const a of this.answering) this.abandon(a.pending.context);
    this.pending.length = 0;
    this.answering.length = 0;
    this.requests.reset();
    this.responses.reset();
  }

  private abandon(context: C): void {
    this.hooks.onAbandoned(this.info, context);
    this.hooks.onDrop('resync_abandoned');
  }

  close(): void {
    this.requests.close();
    this.responses.close();
    for (const p of this.pending) this.hooks.onAbandoned(this.info, p.context);
    for (const a of this.answering) this.hooks.onAbandoned(this.info, a.pending.context);
    this.pending.length = 0;
    this.answering.length = 0;
  }

  private requestHead(m: HttpMessage): Framing {
    const h = m.head;
    if (h.kind !== 'request') {
      this.hooks.onDrop('not_http');
      this.requests.stop();
      return NONE;
    }
    if (this.pending.length >= MAX_PIPELINED) {
      const dropped = this.pending.shift()!;
      this.hooks.onAbandoned(this.info, dropped.context);
      this.hooks.onDrop('pipeline_overflow');
    }
    this.pending.push({ request: m, context: this.hooks.onRequest(this.info, m) });
    if (h.headers.chunked) return CHUNKED;
    if (h.headers.contentLength !== undefined) return { type: 'length', length: h.headers.contentLength };
    return NONE;
  }

  private responseHead(m: HttpMessage): Framing {
    const h = m.head;
    if (h.kind !== 'response' || h.status === undefined) {
      this.hooks.onDrop('not_http');
      this.responses.stop();
      return NONE;
    }
    const status = h.status;
    // 1xx other than 101 are interim (100 Continue, 103 Early Hints): no body, and the final response follows.
    if (status < 200 && status !== 101) return NONE;
    const p = this.pending.shift();
    if (!p) {
      this.hooks.onDrop('unmatched_response');
    } else {
      this.answering.push({ response: m, pending: p });
    }
    const method = p?.request.head.method;
    if (status === 101 || (method === 'CONNECT' && status < 300)) {
      this.requests.stop();
      return TUNNEL;
    }
    if (method === 'HEAD' || status === 204 || status === 304) return NONE;
    if (h.headers.chunked) return CHUNKED;
    if (h.headers.contentLength !== undefined) return { type: 'length', length: h.headers.contentLength };
    return CLOSE;
  }

  private responseDone(m: HttpMessage): void {
    if (this.answering[0]?.response !== m) return; // interim 1xx or unmatched
    const p = this.answering.shift()!.pending;
    this.hooks.onExchange({ conn: this.info, request: p.request, response: m, context: p.context });
  }
}
