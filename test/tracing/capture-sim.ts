// Turns byte streams into the events bpf/http.bpf.c emits: one per syscall with the stream position, the full
// length and only the first `capture` bytes — so parser tests see exactly what the kernel side would ship.
import { Direction, HttpEventType, HttpFlags, Role, type HttpEvent } from '../../src/tracing/http-event.js';
import { HttpProcessor, type DropReason } from '../../src/tracing/http-processor.js';
import type { BuiltSpan } from '../../src/tracing/span-builder.js';

export interface SimOptions {
  capture?: number;
  role?: 'server' | 'client';
  pid?: number;
  fd?: number;
  local?: [string, number];
  remote?: [string, number];
  /**
   * Bytes laid before and after each event's data in its buffer, as the neighbouring records of a kernel batch
   * are: the parser reads in place and must never look past the captured bytes.
   */
  surround?: Uint8Array;
}

let nextConnId = 1;

export class SimConnection {
  private pos = [0, 0];
  private readonly connId = nextConnId++;
  private readonly capture: number;
  private flags = 0;
  readonly role: number;
  constructor(private readonly sim: Sim, private readonly o: SimOptions = {}) {
    this.capture = o.capture ?? 1024;
    this.role = o.role === 'client' ? Role.CLIENT : Role.SERVER;
  }

  /** One syscall moving `bytes` (or `length` uncaptured-visible bytes, e.g. sendfile) at time `t` (ns). */
  sys(direction: 'in' | 'out', bytes: Uint8Array | string, t: bigint, opts: { length?: number; tid?: number } = {}): void {
    const data = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : Buffer.from(bytes);
    const length = opts.length ?? data.length;
    const d = direction === 'in' ? Direction.INGRESS : Direction.EGRESS;
    const around = this.o.surround ?? new Uint8Array();
    const captured = Math.min(this.capture, length, data.length);
    const buf = Buffer.concat([around, data.subarray(0, captured), around]);
    const ev: HttpEvent = {
      ...this.base(), flags: this.flags, type: HttpEventType.DATA, direction: d, tsEnter: Number(t), tsExit: Number(t) + 1000, position: this.pos[d]!,
      tid: opts.tid ?? this.o.pid ?? 100, length, buf, dataOffset: around.length, captured,
    };
    this.pos[d]! += length;
    this.flags = 0;
    this.sim.processor.handle(ev);
  }

  /**
   * What the kernel does while shedding: the syscalls are not shipped and positions do not advance; the next
   * event shipped carries HTTP_F_RESYNC (also what a connection registered mid-stream starts with).
   */
  shed(): void {
    this.flags |= HttpFlags.RESYNC;
  }

  /** Events lost on the way (ring full): the bytes moved, positions advanced, nothing shipped. */
  lose(direction: 'in' | 'out', length: number): void {
    this.pos[direction === 'in' ? Direction.INGRESS : Direction.EGRESS]! += length;
  }

  close(t: bigint): void {
    this.sim.processor.handle({ ...this.base(), flags: 0, type: HttpEventType.CLOSE, direction: 0, tsEnter: Number(t), tsExit: Number(t), position: 0, tid: 1, length: 0, buf: new Uint8Array(), dataOffset: 0, captured: 0 });
  }

  private base() {
    return {
      role: this.role, family: 2, connId: this.connId, pid: this.o.pid ?? 100, fd: this.o.fd ?? 5,
      lport: this.o.local?.[1] ?? 8080, rport: this.o.remote?.[1] ?? 40000,
      laddr: this.o.local?.[0] ?? '127.0.0.1', raddr: this.o.remote?.[0] ?? '127.0.0.1',
    };
  }
}

export class Sim {
  readonly spans: BuiltSpan[] = [];
  readonly drops = new Map<DropReason, number>();
  readonly processor = new HttpProcessor({
    keepQuery: false, routePatterns: ['/users/{id}'], maxConnections: 100,
    toWall: (ns) => ns, resourceFor: (pid) => ({ attributes: { 'service.name': 'svc', 'process.pid': pid } }),
    onSpan: (b) => this.spans.push(b),
    onDrop: (r) => this.drops.set(r, (this.drops.get(r) ?? 0) + 1),
  });

  conn(o: SimOptions = {}): SimConnection {
    return new SimConnection(this, o);
  }
}
