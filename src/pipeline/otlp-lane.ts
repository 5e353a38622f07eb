// One signal's road to the OTLP backend: encoded batches wait in a store (the segment log by default) and one
// sender loop sends the oldest first, through retry → timeout → transport, acknowledging a batch (deleting it)
// only once the backend answered for it. FIFO: after a restart the unacknowledged batches go first.
// One request in flight per lane: the bytes the store lends for a batch (a buffer it reuses for the next one)
// stay untouched until the transport has finished with them — through every retry; a request the timeout guard
// gave up on (a hung transport) may still hold them, so then the store is told not to reuse that buffer.
import type { OtlpTransport } from '../export/exporter.js';
import { trimEncoder } from '../export/proto/encode-otlp.js';
import { releasePooledChunks } from './chunk-pool.js';
import type { ExportOutcome } from '../export/outcome.js';
import type { OtlpSignal } from '../export/settings.js';
import { withRetry, type RetryPolicy } from './retry.js';
import type { BatchStore, StoredBatch } from './store.js';
import { withTimeout } from './timeout.js';

export interface LaneHooks {
  /** Every request's outcome (metrics, connected/last_error). */
  attempted(signal: OtlpSignal, o: ExportOutcome, seconds: number, batch: StoredBatch): void;
  /** The batch is finished: delivered (maybe partially) or permanently refused. */
  finished(signal: OtlpSignal, batch: StoredBatch, o: ExportOutcome): void;
}

export interface LaneOptions {
  transport: () => OtlpTransport | null;
  timeoutMs: () => number;
  policy: () => RetryPolicy;
  abort: () => AbortSignal;
}

/** Idle this long: buffers grown by a huge batch are given back (looked at twice, see ProtoWriter.trim). */
const IDLE_TRIM_MS = 30_000;

export class OtlpLane {
  private running: Promise<void> | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private idleLooks = 0;

  constructor(readonly signal: OtlpSignal, readonly store: BatchStore, private readonly opts: LaneOptions, private readonly hooks: LaneHooks) {}

  /** Start the sender loop if it is idle. */
  kick(): void {
    if (this.running || !this.store.peek() || !this.opts.transport()) return;
    this.running = this.loop().finally(() => {
      this.running = null;
      this.armIdleTrim();
    });
  }

  /** Resolves when the store is empty, or false at the deadline / when nothing can send. */
  async drain(deadline: number): Promise<boolean> {
    for (;;) {
      if (!this.store.peek()) return true;
      if (Date.now() >= deadline || this.opts.abort().aborted || !this.opts.transport()) return false;
      this.kick();
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Wait for the loop to notice an abort. */
  async idle(): Promise<void> {
    await this.running;
  }

  private async loop(): Promise<void> {
    for (;;) {
      const batch = this.store.peek();
      const abort = this.opts.abort();
      if (!batch || abort.aborted) return;
      // Valid until the next read() or this batch's ack: the same bytes for every retry below.
      const body = this.store.read(batch);
      const unsettled = { sends: 0 };
      const outcome = await withRetry(async () => {
        const t = this.opts.transport();
        if (!t) return { kind: 'retryable', status: 'no_endpoint', message: 'no OTLP endpoint', errorType: 'no_endpoint' };
        const started = process.hrtime.bigint();
        const o = await withTimeout(tracked(t, unsettled), this.signal, body, this.opts.timeoutMs(), batch.gzip);
        this.hooks.attempted(this.signal, o, Number(process.hrtime.bigint() - started) / 1e9, batch);
        return o;
      }, this.opts.policy(), abort, () => undefined);
      // A send the guard gave up on may still read `body`: the store must not write into that buffer again.
      if (unsettled.sends > 0) this.store.detachRead();
      if (!outcome) return; // aborted: the batch stays in the store for next time
      this.hooks.finished(this.signal, batch, outcome);
      this.store.ack(batch);
    }
  }

  /** Once idle for IDLE_TRIM_MS (twice), buffers grown by a huge batch are given back (RSS). */
  private armIdleTrim(): void {
    this.idleLooks = 0;
    if (this.idleTimer) {
      this.idleTimer.refresh();
      return;
    }
    this.idleTimer = setTimeout(() => {
      if (this.running) return; // busy again: the next idle period re-arms
      this.store.trim();
      releasePooledChunks();
      trimEncoder();
      if (++this.idleLooks < 2) this.idleTimer?.refresh();
    }, IDLE_TRIM_MS).unref();
  }
}

/** The transport, counting its sends until they settle (whatever the timeout guard decided meanwhile). */
function tracked(t: OtlpTransport, unsettled: { sends: number }): OtlpTransport {
  return {
    send: (signal, body, ms, gzipped) => {
      unsettled.sends++;
      return t.send(signal, body, ms, gzipped).finally(() => {
        unsettled.sends--;
      });
    },
    close: () => t.close(),
  };
}
