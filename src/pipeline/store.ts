// Where encoded batches wait for the backend: the persistent segment log by default, or memory when
// `queue.persistent` is false. Both are FIFO and bounded by one byte budget shared by every signal.

/** count: queue items (spans, Metric objects, log records); points: metric data points (= count for others). */
export interface StoredBatch { readonly id: number; readonly count: number; readonly points: number; readonly bytes: number }

export interface BatchStore {
  /** false: refused (cap reached or write failed); the caller drops and counts. */
  append(payload: Buffer, count: number, points?: number): boolean;
  peek(): StoredBatch | undefined;
  read(b: StoredBatch): Buffer;
  ack(b: StoredBatch): void;
  pendingItems(): number;
  pendingBatches(): number;
  close(): void;
}

/** The `queue.max_bytes` cap, shared by the stores of all signals. */
export class DiskBudget {
  used = 0;
  constructor(public max: number) {}
  /** `force`: account for data already on disk at start-up even above the cap (it is drained, not dropped). */
  reserve(n: number, force = false): boolean {
    if (!force && this.used + n > this.max) return false;
    this.used += n;
    return true;
  }
  release(n: number): void {
    this.used = Math.max(0, this.used - n);
  }
}

export class MemoryStore implements BatchStore {
  private readonly batches: Array<StoredBatch & { payload: Buffer }> = [];
  private head = 0;
  private nextId = 1;
  private items = 0;
  constructor(private readonly budget: DiskBudget) {}
  append(payload: Buffer, count: number, points = count): boolean {
    if (!this.budget.reserve(payload.length)) return false;
    this.batches.push({ id: this.nextId++, count, points, bytes: payload.length, payload });
    this.items += count;
    return true;
  }
  peek(): StoredBatch | undefined {
    return this.batches[this.head];
  }
  read(b: StoredBatch): Buffer {
    return (b as StoredBatch & { payload: Buffer }).payload;
  }
  ack(b: StoredBatch): void {
    const e = this.batches[this.head];
    if (!e || e.id !== b.id) return;
    this.batches[this.head++] = undefined as never;
    this.items -= e.count;
    this.budget.release(e.bytes);
    if (this.head > 1024 && this.head * 2 > this.batches.length) {
      this.batches.splice(0, this.head);
      this.head = 0;
    }
  }
  pendingItems(): number {
    return this.items;
  }
  pendingBatches(): number {
    return this.batches.length - this.head;
  }
  close(): void {}
}
