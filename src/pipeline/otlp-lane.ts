// One signal's road to the OTLP backend: encoded batches wait in a store (the segment log by default) and one
// sender loop sends the oldest first, through retry → timeout → transport, acknowledging a batch (deleting it)
// only once the backend answered for it. FIFO: after a restart the unacknowledged batches go first.
import type { OtlpTransport } from '../export/exporter.js';
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

export class OtlpLane {
  private running: Promise<void> | null = null;

  constructor(readonly signal: OtlpSignal, readonly store: BatchStore, private readonly opts: LaneOptions, private readonly hooks: LaneHooks) {}

  /** Start the sender loop if it is idle. */
  kick(): void {
    if (this.running || !this.store.peek() || !this.opts.transport()) return;
    this.running = this.loop().finally(() => {
      this.running = null;
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
      const body = this.store.read(batch);
      const outcome = await withRetry(async () => {
        const t = this.opts.transport();
        if (!t) return { kind: 'retryable', status: 'no_endpoint', message: 'no OTLP endpoint', errorType: 'no_endpoint' };
        const started = process.hrtime.bigint();
        const o = await withTimeout(t, this.signal, body, this.opts.timeoutMs(), batch.gzip);
        this.hooks.attempted(this.signal, o, Number(process.hrtime.bigint() - started) / 1e9, batch);
        return o;
      }, this.opts.policy(), abort, () => undefined);
      if (!outcome) return; // aborted: the batch stays in the store for next time
      this.hooks.finished(this.signal, batch, outcome);
      this.store.ack(batch);
    }
  }
}
