// Where encoded batches wait for the backend: the persistent segment log by default, or memory when
// `queue.persistent` is false. Both are FIFO and bounded by one byte budget shared by every signal.
import { SlabCopies, type Chunk } from './chunk-pool.js';

/**
 * count: queue items (spans, Metric objects, log records); points: metric data points (= count for others);
 * gzip: the payload is gzip-compressed protobuf (else plain protobuf).
 */
export interface StoredBatch { readonly id: number; readonly count: number; readonly points: number; readonly bytes: number; readonly gzip: boolean }

export interface BatchStore {
  /**
   * `payload` is borrowed (the encoder's reused buffer): a store writes or copies it before returning.
   * false: refused (cap reached or write failed); the caller drops and counts.
   */
  append(payload: Buffer, count: number, points?: number, gzip?: boolean): boolean;
  peek(): StoredBatch | undefined;
  /**
   * The batch's bytes; may be a buffer the store reuses, so valid until the next read() or until the batch is
   * acknowledged (one sender per store, one request in flight: the lane reads the next batch only after the
   * transport is done with this one).
   */
  read(b: StoredBatch): Buffer;
  /**
   * The buffer last returned by read() may still be referenced by a request that never finished (the lane's
   * timeout guard gave up on a hung transport): never write into it again. Rare; costs one fresh buffer.
   */
  detachRead(): void;
  /** Idle: give back reuse buffers grown far beyond the usual batch (one huge batch must not pin its size). */
  trim(): void;
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

interface MemEntry extends StoredBatch { chunk: Chunk; offset: number }

/**
 * `queue.persistent: false`: batches are copied into 4 MiB chunks (./chunk-pool.ts; a batch larger than that gets
 * its own), and a chunk whose batches are all acknowledged is reused — no buffer per batch, so a backlog does not turn into
 * garbage-collector work. Bounded by the shared budget like the segment log.
 */
export class MemoryStore implements BatchStore {
  private readonly batches: MemEntry[] = [];
  private head = 0;
  private nextId = 1;
  private items = 0;
  private readonly slabs = new SlabCopies();
  constructor(private readonly budget: DiskBudget) {}
  append(payload: Buffer, count: number, points = count, gzip = false): boolean {
    const n = payload.length;
    if (!this.budget.reserve(n)) return false;
    const chunk = this.slabs.copy(payload)!; // no cap: never given up
    this.batches.push({ id: this.nextId++, count, points, bytes: n, gzip, chunk, offset: chunk.used - n });
    this.items += count;
    return true;
  }
  peek(): StoredBatch | undefined {
    return this.batches[this.head];
  }
  read(b: StoredBatch): Buffer {
    const e = b as MemEntry;
    return this.slabs.read(e.chunk, e.offset, e.bytes);
  }
  detachRead(): void {
    this.slabs.detachRead();
  }
  trim(): void {
    // The emptied current slab goes back to the pool, which the idle lane then empties (releasePooledChunks).
    this.slabs.trim();
  }
  ack(b: StoredBatch): void {
    const e = this.batches[this.head];
    if (!e || e.id !== b.id) return;
    this.batches[this.head++] = undefined as never;
    this.items -= e.count;
    this.budget.release(e.bytes);
    this.slabs.release(e.chunk);
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
  close(): void {
    this.slabs.close();
  }
}
