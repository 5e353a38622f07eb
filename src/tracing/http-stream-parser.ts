// One direction of one connection as a sparse byte stream: every syscall ships its byte position, its full
// length and only its first bytes. This parser frames HTTP/1.x messages on it (Pixie's approach: stitch by
// position), so pipelining, keep-alive, chunked bodies and large responses are delimited by their own framing
// even though most body bytes were never copied. When framing is lost (a chunk-size line or a header block in
// bytes we did not capture) the message in progress gets an inferred end — the last byte before the next
// message start, or the close — and the parser resynchronises on the next syscall that starts a message.
import { parseHeadBytes, startLooksLikeHttp, type HttpHead } from './http-head.js';

/** One syscall's share of the stream (an HttpEvent is one: it is read in place, never kept). */
export interface Chunk {
  /** Byte offset of the first byte in this direction's stream. */
  position: number;
  /** Bytes the syscall transferred. */
  length: number;
  /** The first captured bytes (≤ length) are buf[dataOffset, dataOffset + captured). */
  buf: Uint8Array;
  dataOffset: number;
  captured: number;
  /** Syscall enter and exit, CLOCK_MONOTONIC ns. */
  tsEnter: number;
  tsExit: number;
  tid: number;
}

/** How a message's body ends (RFC 9112 §6.3). `tunnel`: the connection stops carrying HTTP after this head. */
export type Framing =
  | { type: 'none' }
  | { type: 'length'; length: number }
  | { type: 'chunked' }
  | { type: 'close' }
  | { type: 'tunnel' };

export interface Edge {
  tsEnter: number;
  tsExit: number;
  tid: number;
}

export interface HttpMessage {
  head: HttpHead;
  startPos: number;
  /** Position just after the last byte. */
  endPos: number;
  /** The syscall that carried the first byte, and the one that carried the last. */
  first: Edge;
  last: Edge;
  framing: Framing;
  /** True when the end was inferred (framing lost) rather than read from the framing. */
  inferredEnd: boolean;
}

export interface MessageListener {
  /** The head is parsed; decide its body framing (a response's depends on its request). */
  onHead(message: HttpMessage): Framing;
  onMessage(message: HttpMessage): void;
  /** A drop/anomaly counter, by reason. */
  onDrop(reason: ParserDropReason): void;
  /**
   * Bytes were lost where the framing does not say what they held (events lost between messages, or across a
   * message end): whole messages may be missing, so pairing in order is no longer safe. The owner resets both
   * directions (`reset`), this parser included.
   */
  onLostSync(): void;
}

export type ParserDropReason =
  | 'not_http' | 'malformed_head' | 'header_too_large' | 'truncated_head' | 'lost_framing' | 'gap';

export const MAX_HEAD_BYTES = 16384;
const EMPTY = Buffer.alloc(0);
const MAX_CHUNK_LINE = 256;
const MAX_TRAILER_BYTES = 8192;
/** A message's framing until its owner decides it (shared: one fewer object per message). */
const NO_FRAMING_YET: Framing = { type: 'none' };

/** Index just past the blank line ending a head ("\r\n\r\n" or a bare "\n\n") within buf[from, to); -1 if none. */
function headEnd(buf: Uint8Array, from: number, to: number): number {
  for (let nl = buf.indexOf(0x0a, from); nl >= 0 && nl < to; nl = buf.indexOf(0x0a, nl + 1)) {
    const c = nl + 1 < to ? buf[nl + 1] : undefined;
    if (c === 0x0a) return nl + 2;
    if (c === 0x0d && nl + 2 < to && buf[nl + 2] === 0x0a) return nl + 3;
  }
  return -1;
}

const enum State { Idle, Head, BodyLength, ChunkSize, ChunkData, ChunkDataEnd, Trailer, BodyClose, Desync, Stopped }

export class HttpStreamParser {
  private state = State.Idle;
  /** Position of the next byte expected: streams start at 0 in the kernel; -1 after a reset (any position). */
  private expected = 0;
  /** Bytes of a head split across syscalls. */
  private head: Buffer = EMPTY;
  private line = '';
  private remaining = 0;
  private current: HttpMessage | undefined;
  private lastEdge: Edge | undefined;

  constructor(private readonly listener: MessageListener) {}

  /** No more HTTP on this stream (upgrade, CONNECT tunnel, or the connection is not HTTP). */
  get stopped(): boolean {
    return this.state === State.Stopped;
  }

  /** Bytes held for the message in progress (bounded by MAX_HEAD_BYTES). */
  get bufferedBytes(): number {
    return this.head.length + this.line.length;
  }

  feed(chunk: Chunk): void {
    if (this.state === State.Stopped || chunk.length <= 0) return;
    const edge: Edge = { tsEnter: chunk.tsEnter, tsExit: chunk.tsExit, tid: chunk.tid };
    let pos = chunk.position;
    const buf = chunk.buf;
    let from = chunk.dataOffset;
    const to = from + Math.min(chunk.captured, chunk.length);
    let length = chunk.length;
    if (this.expected >= 0 && pos < this.expected) {
      // Overlap (should not happen): keep only what is new.
      const skip = this.expected - pos;
      if (skip >= length) return;
      pos += skip;
      length -= skip;
      from = Math.min(from + skip, to);
    }
    if (this.expected >= 0 && pos > this.expected) {
      this.listener.onDrop('gap');
      const gap = pos - this.expected;
      if (this.gapKeepsFraming(gap)) this.skip(gap, this.lastEdge ?? edge);
      else this.listener.onLostSync();
    }
    this.expected = pos;
    if (this.state === State.Desync) this.tryResync(buf, from, to);
    this.consume(buf, from, to, edge);
    // The rest of this syscall's bytes were not captured.
    if (length > to - from) this.skip(length - (to - from), edge);
    this.lastEdge = edge;
  }

  /**
   * Forget the stream so far: what came before was not seen (or not all of it), so the message in progress is
   * abandoned without a span and parsing restarts at the next syscall that starts a message, at any position.
   */
  reset(): void {
    if (this.state === State.Stopped) return;
    this.state = State.Desync;
    this.current = undefined;
    this.head = EMPTY;
    this.line = '';
    this.remaining = 0;
    this.expected = -1;
  }

  /** A gap of `n` bytes inside a run of known length (a Content-Length body, chunk data) loses nothing else. */
  private gapKeepsFraming(n: number): boolean {
    switch (this.state) {
      case State.BodyLength:
      case State.ChunkData:
      case State.ChunkDataEnd:
        return n <= this.remaining;
      case State.BodyClose:
        return true; // ends at the close whatever it held
      default:
        return false;
    }
  }

  /** The connection closed: a close-delimited body ends here; a message with an inferred end is emitted. */
  close(): void {
    const m = this.current;
    if (m && (this.state === State.BodyClose || this.state === State.Desync)) {
      if (this.state === State.Desync) m.inferredEnd = true;
      this.current = undefined;
      this.listener.onMessage(m);
    } else if (m || this.head.length > 0) {
      this.listener.onDrop('truncated_head');
    }
    this.current = undefined;
    this.head = EMPTY;
    this.state = State.Stopped;
  }

  /** A message whose end is only inferred is emitted now (e.g. the stream has been idle for long). */
  flushInferred(): void {
    if (this.state === State.Desync && this.current) {
      const m = this.current;
      m.inferredEnd = true;
      this.current = undefined;
      this.listener.onMessage(m);
    }
  }

  /** Stop parsing: the stream no longer carries HTTP. */
  stop(): void {
    this.state = State.Stopped;
    this.current = undefined;
    this.head = EMPTY;
  }

  private tryResync(buf: Uint8Array, from: number, to: number): void {
    if (to === from || startLooksLikeHttp(buf, from, to) === 'no') {
      // Still inside whatever we lost track of: a pending message with an inferred end grows.
      return;
    }
    const m = this.current;
    this.current = undefined;
    if (m) {
      m.inferredEnd = true;
      this.listener.onMessage(m);
    }
    this.state = State.Idle;
  }

  private desync(reason: ParserDropReason | undefined): void {
    if (reason) this.listener.onDrop(reason);
    this.head = EMPTY;
    this.line = '';
    this.state = State.Desync;
  }

  /** Advance over `n` bytes that were not captured. */
  /**
   * Take `k` bytes (≤ remaining) of a run whose length is known — a Content-Length body or chunk data — whether
   * they were captured or only counted; at its end, finish the message or expect the CRLF after the chunk.
   */
  private takeKnown(k: number, edge: Edge): void {
    this.remaining -= k;
    this.advance(k, edge);
    if (this.remaining !== 0) return;
    if (this.state === State.BodyLength) this.finish(edge);
    else {
      this.state = State.ChunkDataEnd;
      this.remaining = 2;
    }
  }

  private skip(n: number, edge: Edge): void {
    while (n > 0 && this.state !== State.Stopped) {
      switch (this.state) {
        case State.BodyLength:
        case State.ChunkData: {
          const k = Math.min(n, this.remaining);
          n -= k;
          this.takeKnown(k, edge);
          break;
        }
        case State.ChunkDataEnd: {
          // The CRLF after chunk data: its length is known, so skipping it keeps us in sync.
          const k = Math.min(n, this.remaining);
          this.remaining -= k;
          n -= k;
          this.advance(k, edge);
          if (this.remaining === 0) this.state = State.ChunkSize;
          break;
        }
        case State.BodyClose:
        case State.Desync:
          this.advance(n, edge);
          n = 0;
          break;
        case State.Idle:
          this.advance(n, edge);
          n = 0;
          this.desync('gap');
          break;
        default:
          // Head, chunk-size line or trailers fell into uncaptured bytes: framing is lost.
          this.advance(n, edge);
          n = 0;
          this.loseFraming(edge);
      }
    }
  }

  private advance(n: number, edge: Edge): void {
    this.expected += n;
    if (this.current) {
      this.current.endPos = this.expected;
      this.current.last = edge;
    }
  }

  /** The message in progress keeps an inferred end; a head cut short still yields its start line. */
  private loseFraming(edge: Edge): void {
    if (this.state === State.Head) {
      const head = partialHead(this.head);
      if (head && !this.current) {
        const start = this.expected - this.head.length;
        this.current = {
          head, startPos: start, endPos: this.expected, first: this.headStart ?? edge, last: edge,
          framing: { type: 'close' }, inferredEnd: true,
        };
        this.listener.onHead(this.current);
        this.desync(undefined);
        return;
      }
      this.desync('truncated_head');
      return;
    }
    this.desync('lost_framing');
  }

  private headStart: Edge | undefined;

  private consume(buf: Uint8Array, from: number, to: number, edge: Edge): void {
    let i = from;
    while (i < to && this.state !== State.Stopped) {
      switch (this.state) {
        case State.Desync:
        case State.BodyClose:
          this.advance(to - i, edge);
          i = to;
          break;
        case State.Idle: {
          // Tolerate empty lines between messages (RFC 9112 §2.2).
          const c = buf[i]!;
          if (c === 0x0d || c === 0x0a) {
            this.advance(1, edge);
            i++;
            break;
          }
          const look = startLooksLikeHttp(buf, i, to);
          if (look === 'no') {
            this.advance(to - i, edge);
            i = to;
            this.desync('not_http');
            break;
          }
          this.state = State.Head;
          this.headStart = edge;
          break;
        }
        case State.Head:
          i = this.consumeHead(buf, i, to, edge);
          break;
        case State.BodyLength:
        case State.ChunkData: {
          const k = Math.min(to - i, this.remaining);
          i += k;
          this.takeKnown(k, edge);
          break;
        }
        case State.ChunkDataEnd: {
          const c = buf[i]!;
          if (this.remaining === 2 && c === 0x0a) {
            // Bare LF after chunk data.
            this.remaining = 0;
          } else if ((this.remaining === 2 && c !== 0x0d) || (this.remaining === 1 && c !== 0x0a)) {
            this.advance(1, edge);
            i++;
            this.loseFraming(edge);
            break;
          } else this.remaining--;
          this.advance(1, edge);
          i++;
          if (this.remaining === 0) this.state = State.ChunkSize;
          break;
        }
        case State.ChunkSize:
        case State.Trailer:
          i = this.consumeLine(buf, i, to, edge);
          break;
        default:
          i = to;
      }
    }
  }

  private consumeHead(bytes: Uint8Array, i: number, to: number, edge: Edge): number {
    const prevLen = this.head.length;
    if (prevLen === 0) {
      // Heads almost always arrive whole in one syscall: found and parsed in place in the batch, no copy.
      if (startLooksLikeHttp(bytes, i, to) === 'no') return this.refuseHead(i, to, edge, 'not_http');
      const end = headEnd(bytes, i, to);
      if (end < 0) {
        if (to - i > MAX_HEAD_BYTES) return this.refuseHead(i, to, edge, 'header_too_large');
        this.head = Buffer.from(bytes.subarray(i, to)); // copy: the batch buffer is reused
        this.advance(to - i, edge);
        return to;
      }
      if (end - i > MAX_HEAD_BYTES) return this.refuseHead(i, to, edge, 'header_too_large');
      this.advance(end - i, edge);
      this.completeHead(bytes, i, end, edge);
      return end;
    }
    // A head split across syscalls is accumulated (bounded by MAX_HEAD_BYTES).
    const chunk = bytes.subarray(i, to);
    const buf = Buffer.concat([this.head, chunk.subarray(0, Math.min(chunk.length, MAX_HEAD_BYTES + 1 - prevLen))]);
    if (prevLen < 24 && buf.length >= Math.min(24, prevLen + chunk.length) && startLooksLikeHttp(buf, 0, buf.length) === 'no') {
      return this.refuseHead(i, to, edge, 'not_http');
    }
    const end = headEnd(buf, Math.max(0, prevLen - 3), buf.length);
    if (end < 0) {
      if (buf.length > MAX_HEAD_BYTES) return this.refuseHead(i, to, edge, 'header_too_large');
      this.head = buf;
      this.advance(to - i, edge);
      return to;
    }
    if (end > MAX_HEAD_BYTES) return this.refuseHead(i, to, edge, 'header_too_large');
    const used = end - prevLen;
    this.head = EMPTY;
    this.advance(used, edge);
    this.completeHead(buf, 0, end, edge);
    return i + used;
  }

  /** The rest of this syscall's bytes are not a head we can read. */
  private refuseHead(i: number, to: number, edge: Edge, reason: 'not_http' | 'header_too_large'): number {
    this.advance(to - i, edge);
    this.desync(reason);
    return to;
  }

  private completeHead(bytes: Uint8Array, start: number, end: number, edge: Edge): void {
    const head = parseHeadBytes(bytes, start, end);
    if (!head) {
      this.desync('malformed_head');
      return;
    }
    const message: HttpMessage = {
      head, startPos: this.expected - (end - start), endPos: this.expected, first: this.headStart ?? edge, last: edge,
      framing: NO_FRAMING_YET, inferredEnd: false,
    };
    this.current = message;
    const framing = this.listener.onHead(message);
    message.framing = framing;
    switch (framing.type) {
      case 'none':
        this.finish(edge);
        break;
      case 'tunnel':
        this.finish(edge);
        this.stop();
        break;
      case 'length':
        if (framing.length === 0) this.finish(edge);
        else {
          this.remaining = framing.length;
          this.state = State.BodyLength;
        }
        break;
      case 'chunked':
        this.state = State.ChunkSize;
        this.line = '';
        break;
      case 'close':
        this.state = State.BodyClose;
        break;
    }
  }

  /** Chunk-size lines and trailer lines. */
  private consumeLine(buf: Uint8Array, i: number, to: number, edge: Edge): number {
    const start = i;
    for (; i < to; i++) {
      const c = buf[i]!;
      if (c !== 0x0a) {
        this.line += String.fromCharCode(c);
        const limit = this.state === State.ChunkSize ? MAX_CHUNK_LINE : MAX_TRAILER_BYTES;
        if (this.line.length > limit) {
          this.advance(i + 1 - start, edge);
          this.loseFraming(edge);
          return i + 1;
        }
        continue;
      }
      this.advance(i + 1 - start, edge);
      const line = this.line.endsWith('\r') ? this.line.slice(0, -1) : this.line;
      this.line = '';
      if (this.state === State.ChunkSize) {
        const m = /^([0-9a-fA-F]{1,13})[ \t]*(;.*)?$/.exec(line);
        if (!m) {
          this.loseFraming(edge);
          return i + 1;
        }
        const size = parseInt(m[1]!, 16);
        if (size === 0) this.state = State.Trailer;
        else {
          this.remaining = size;
          this.state = State.ChunkData;
        }
      } else if (line === '') {
        this.finish(edge);
      }
      return i + 1;
    }
    this.advance(i - start, edge);
    return i;
  }

  private finish(edge: Edge): void {
    const m = this.current;
    this.current = undefined;
    if (this.state !== State.Stopped) this.state = State.Idle;
    this.remaining = 0;
    if (!m) return;
    m.endPos = this.expected;
    m.last = edge;
    this.listener.onMessage(m);
  }
}

/** The complete lines of a head cut short by uncaptured bytes, parsed. */
function partialHead(bytes: Buffer): HttpHead | undefined {
  const lastNl = bytes.lastIndexOf(0x0a);
  return lastNl < 0 ? undefined : parseHeadBytes(bytes, 0, lastNl);
}
