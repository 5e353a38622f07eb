// Splits the addon's framed batches ([u32 length][u32 0][record, padded to 8]…) into per-kind EventBatches
// and hands them to the subscribers of that kind. Records that are too short, whose header size disagrees
// with the record length, or whose kind nobody subscribed to are counted, never delivered.
import type { EventBatch } from './core.js';
import { EventHeaderLayout } from './events.js';

type Subscriber = (batch: EventBatch) => void;

export interface DispatchCounters {
  /** Well-formed records received. */
  received: number;
  /** Records with a broken frame or header. */
  malformed: number;
  /** Well-formed records of a kind with no subscriber. */
  unclaimed: number;
  /** Subscriber callbacks that threw (the batch is gone for that subscriber; others still get theirs). */
  subscriberErrors: number;
}

export class RingbufDispatcher {
  readonly counters: DispatchCounters = { received: 0, malformed: 0, unclaimed: 0, subscriberErrors: 0 };
  private readonly subscribers = new Map<number, Subscriber[]>();

  constructor(private readonly onError: (kind: number, err: unknown) => void = () => {}) {}

  subscribe(kind: number, cb: Subscriber): () => void {
    const list = this.subscribers.get(kind) ?? [];
    this.subscribers.set(kind, [...list, cb]);
    return () => {
      const cur = this.subscribers.get(kind) ?? [];
      const next = cur.filter((s) => s !== cb);
      if (next.length) this.subscribers.set(kind, next);
      else this.subscribers.delete(kind);
    };
  }

  /** Handle one framed batch from the addon; returns the number of well-formed records in it. */
  dispatch(buf: Buffer): number {
    const byKind = new Map<number, number[]>();
    let pos = 0;
    let good = 0;
    while (pos + 8 <= buf.length) {
      const len = buf.readUInt32LE(pos);
      const rec = pos + 8;
      pos = rec + ((len + 7) & ~7);
      if (pos > buf.length + 7 || rec + len > buf.length || len < EventHeaderLayout.SIZE) {
        this.counters.malformed++;
        if (rec + len > buf.length) break;
        continue;
      }
      const size = buf.readUInt32LE(rec + EventHeaderLayout.size);
      if (size < EventHeaderLayout.SIZE || size > len) {
        this.counters.malformed++;
        continue;
      }
      const kind = buf.readUInt32LE(rec + EventHeaderLayout.kind);
      let offs = byKind.get(kind);
      if (!offs) byKind.set(kind, (offs = []));
      offs.push(rec);
      good++;
    }
    this.counters.received += good;
    for (const [kind, offsets] of byKind) {
      const subs = this.subscribers.get(kind);
      if (!subs) {
        this.counters.unclaimed += offsets.length;
        continue;
      }
      const batch: EventBatch = { kind, buf, offsets };
      for (const s of subs) {
        try {
          s(batch);
        } catch (e) {
          this.counters.subscriberErrors++;
          this.onError(kind, e);
        }
      }
    }
    return good;
  }
}
