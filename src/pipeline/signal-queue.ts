// The in-memory queue of one signal: bounded by items (queue_capacity) and by estimated bytes (queue.memory_bytes).
// offer() never blocks: it accepts what fits, in order, and says how many; the caller counts the rest dropped.
// Kept as the offered runs themselves (one array copy per offer, not one push per item into a backlog-sized
// array that regrows, plus a parallel array of sizes): a backlog-sized array lives in V8's large-object space,
// and regrowing it under a burst is old-generation garbage. A take() that lines up with an offered run (a source
// pushing batch_size items at a time) hands that run over without a copy; a take that cuts a run sizes the
// items it takes again (sizes are not stored per item).

/** One offered run: items[start..] still queued, with their estimated bytes. */
interface Run<T> { items: T[]; start: number; bytes: number }

export class SignalQueue<T> {
  private runs: Run<T>[] = [];
  private head = 0; // index into runs of the oldest
  private count = 0;
  private bytes = 0;

  constructor(public capacity: number, public maxBytes: number, private readonly sizeOf: (t: T) => number) {}

  get length(): number {
    return this.count;
  }

  offer(batch: readonly T[]): number {
    // Room by count first (one comparison for the batch, not one per item), then item by item by bytes.
    const room = Math.min(batch.length, this.capacity - this.count);
    const sizeOf = this.sizeOf;
    const max = this.maxBytes;
    let bytes = this.bytes;
    let n = 0;
    for (; n < room; n++) {
      const size = sizeOf(batch[n]!);
      if (bytes + size > max && (this.count > 0 || n > 0)) break; // an empty queue takes one item whatever its size
      bytes += size;
    }
    if (n === 0) return 0;
    // A copy: the caller may reuse its array.
    this.runs.push({ items: batch.slice(0, n), start: 0, bytes: bytes - this.bytes });
    this.bytes = bytes;
    this.count += n;
    return n;
  }

  /** Up to `max` of the oldest items, in order. */
  take(max: number): T[] {
    const n = Math.min(max, this.count);
    if (n <= 0) return [];
    const first = this.runs[this.head]!;
    let out: T[];
    if (first.start === 0 && first.items.length === n) {
      out = first.items; // the whole run, as offered: no copy
      this.consume(first, n);
    } else {
      out = new Array<T>(n);
      for (let k = 0; k < n;) {
        const r = this.runs[this.head]!;
        const from = r.start;
        const m = Math.min(n - k, r.items.length - from);
        for (let i = 0; i < m; i++) out[k + i] = r.items[from + i]!;
        this.consume(r, m);
        for (let i = 0; i < m; i++) r.items[from + i] = undefined as T; // taken: collectable while the rest of the run waits
        k += m;
      }
    }
    this.count -= n;
    if (this.count === 0) {
      this.runs = [];
      this.head = 0;
      this.bytes = 0; // exact again whatever was apportioned
    } else if (this.head > 1024 && this.head * 2 > this.runs.length) {
      this.runs = this.runs.slice(this.head); // amortized O(1) per run
      this.head = 0;
    }
    return out;
  }

  /**
   * `m` items leave the head run: a partial take sizes them again (the estimate is a pure function of the item),
   * a run used up takes all of its bytes with it — so the total stays exact per run.
   */
  private consume(r: Run<T>, m: number): void {
    let b = r.bytes;
    if (r.start + m < r.items.length) {
      b = 0;
      for (let i = 0; i < m; i++) b += this.sizeOf(r.items[r.start + i]!);
      b = Math.min(b, r.bytes);
    }
    r.bytes -= b;
    this.bytes -= b;
    r.start += m;
    if (r.start === r.items.length) this.runs[this.head++] = undefined as never;
  }
}
