// Trace context for spans built from traffic. A context may be linked to a parent after creation (the server
// side of a local call can be parsed before its client side), so the trace id is resolved when the span is
// built, by following parents.
import { newSpanId, newTraceId, parseTraceparent } from './trace-context.js';

export interface TraceCtx {
  readonly spanId: Uint8Array;
  /** Own trace id when this context starts or continues a remote trace; else inherited from `parent`. */
  traceId: Uint8Array;
  parentSpanId?: Uint8Array;
  parent?: TraceCtx;
  traceState?: string;
  /** pid:tid of the thread serving this (server) request, while it does. */
  servingKey?: number;
  /** Waiting in a peer table for the other end of a local call. */
  queued?: boolean;
}

export function rootContext(traceparent?: string, tracestate?: string): TraceCtx {
  const remote = parseTraceparent(traceparent);
  if (remote) return { spanId: newSpanId(), traceId: remote.traceId, parentSpanId: remote.spanId, traceState: tracestate };
  return { spanId: newSpanId(), traceId: newTraceId() };
}

export function childOf(parent: TraceCtx): TraceCtx {
  return { spanId: newSpanId(), traceId: parent.traceId, parentSpanId: parent.spanId, parent };
}

/** Make `child` a child of `parent` after the fact. */
export function adopt(child: TraceCtx, parent: TraceCtx): void {
  child.parent = parent;
  child.parentSpanId = parent.spanId;
  child.traceId = parent.traceId;
}

export function traceIdOf(ctx: TraceCtx): Uint8Array {
  let c = ctx;
  for (let depth = 0; c.parent && depth < 32; depth++) c = c.parent;
  return c.traceId;
}
