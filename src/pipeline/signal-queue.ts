// The in-memory queue of one signal: bounded by items (queue_capacity) and by estimated bytes (queue.memory_bytes).
// offer() never blocks: it accepts what fits, in order, and says how many; the caller counts the rest dropped.

export class SignalQueue<T> {
  private items: T[] = [];
  private sizes: number[] = [];
  private head = 0;
  private bytes = 0;

  constructor(public capacity: number, public maxBytes: number, private readonly sizeOf: (t: T) => number) {}

  get length(): number {
    return this.items.length - this.head;
  }

  offer(batch: readonly T[]): number {
    // Room by count first (one comparison for the batch, not one per item), then item by item by bytes.
    const room = Math.min(batch.length, this.capacity - this.length);
    const items = this.items;
    const sizes = this.sizes;
    const sizeOf = this.sizeOf;
    const max = this.maxBytes;
    let bytes = this.bytes;
    let n = 0;
    for (; n < room; n++) {
      const item = batch[n]!;
      const size = sizeOf(item);
      if (bytes + size > max && items.length > this.head) break; // an empty queue takes one item whatever its size
      items.push(item);
      sizes.push(size);
      bytes += size;
    }
    this.bytes = bytes;
    return n;
  }

  take(max: number): T[] {
    const end = Math.min(this.items.length, this.head + max);
    const out = this.items.slice(this.head, end);
    for (let i = this.head; i < end; i++) {
      this.bytes -= this.sizes[i]!;
      this.items[i] = undefined as T; // taken: let it be collected before the next compaction
    }
    this.head = end;
    if (this.head === this.items.length) {
      this.items = [];
      this.sizes = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.items.length) {
      // Compact once the taken prefix is half the array: amortized O(1) per item (not a copy of the whole
      // backlog every few batches).
      this.items = this.items.slice(this.head);
      this.sizes = this.sizes.slice(this.head);
      this.head = 0;
    }
    return out;
  }
}
