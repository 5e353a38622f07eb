// Metrics to Prometheus remote write: batches wait in a small bounded in-memory queue (not persisted: remote
// write is a secondary road; the OTLP queue is the durable one) and go out one at a time through the shared
// retry policy. A full queue drops the new batch (counted).
import type { Metric } from '../model/metric.js';
import type { SelfMetrics } from '../telemetry/self-metrics.js';
import { compressWriteRequest, encodeWriteRequest } from '../export/remote-write/encode.js';
import { createRemoteWriteSender, type RemoteWriteSettings } from '../export/remote-write/sender.js';
import { withRetry, type RetryPolicy } from './retry.js';
import { countDropped } from './counters.js';

const MAX_PENDING_BATCHES = 64;

export class RemoteWriteLane {
  private readonly pending: Array<{ body: Buffer; samples: number; items: number; points: number }> = [];
  private running: Promise<void> | null = null;
  private readonly sender: ReturnType<typeof createRemoteWriteSender>;

  constructor(private readonly s: RemoteWriteSettings, private readonly metrics: SelfMetrics, private readonly policy: () => RetryPolicy,
    private readonly abort: () => AbortSignal, private readonly result: (items: number, dropReason: string | null) => void) {
    this.sender = createRemoteWriteSender(s);
  }

  enqueue(ms: readonly Metric[]): boolean {
    const points = ms.reduce((n, m) => n + m.points.length, 0);
    if (this.pending.length >= MAX_PENDING_BATCHES) {
      countDropped(this.metrics, 'metrics', points, 'remote_write_queue_full');
      return false;
    }
    const { body, samples } = encodeWriteRequest(ms);
    this.pending.push({ body: compressWriteRequest(body), samples, items: ms.length, points });
    this.kick();
    return true;
  }

  async drain(deadline: number): Promise<void> {
    while (this.pending.length && Date.now() < deadline && !this.abort().aborted) {
      this.kick();
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  close(): void {
    this.sender.close();
  }

  private kick(): void {
    if (this.running) return;
    this.running = this.loop().finally(() => { this.running = null; });
  }

  private async loop(): Promise<void> {
    while (this.pending.length) {
      const b = this.pending[0]!;
      const endpoint = this.s.endpoint;
      const o = await withRetry(async () => {
        const t0 = process.hrtime.bigint();
        const r = await this.sender.send(b.body);
        this.metrics.exportRequests.inc({ endpoint, status: r.status });
        this.metrics.exportLatency.observe({ endpoint }, Number(process.hrtime.bigint() - t0) / 1e9);
        if (r.kind !== 'ok') this.metrics.exportErrors.inc({ endpoint, error_type: r.errorType ?? 'unknown' });
        return r;
      }, this.policy(), this.abort(), () => undefined);
      if (!o) return;
      this.pending.shift();
      if (o.kind === 'ok') {
        this.metrics.remoteWriteSamples.inc({ result: 'sent' }, b.samples);
        this.result(b.items, null);
      } else {
        this.metrics.remoteWriteSamples.inc({ result: 'dropped' }, b.samples);
        countDropped(this.metrics, 'metrics', b.points, o.errorType ?? 'permanent');
        this.result(b.items, o.errorType ?? 'permanent');
      }
    }
  }
}
