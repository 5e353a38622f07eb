// 4 MiB slabs that the queue stores copy batches into, back to back (no buffer per batch, so a backlog does not
// turn into garbage-collector work), and the process-wide pool of emptied ones.
// Fresh slabs are external memory to V8: allocating them in bursts triggers full garbage collections that mark
// the whole heap — the pool keeps a backlog that comes and goes from doing that.

export const CHUNK_BYTES = 4 * 1024 * 1024;
/** Emptied slabs kept for reuse, process-wide (every signal's store, and stores re-created by a restart): 32 MiB. */
const POOL_MAX = 8;
const pool: Buffer[] = [];

/**
 * `live` counts the batches in it not yet acknowledged; `lent`: a request that never finished may still read from
 * it, so it is never refilled or pooled (the garbage collector takes it).
 */
export interface Chunk { buf: Buffer; used: number; live: number; lent: boolean }

/** A slab of at least `n` bytes: pooled when `n` fits the usual size, else one of its own. */
export function takeChunk(n: number): Chunk {
  const buf = n > CHUNK_BYTES ? Buffer.allocUnsafeSlow(n) : pool.pop() ?? Buffer.allocUnsafeSlow(CHUNK_BYTES);
  return { buf, used: 0, live: 0, lent: false };
}

/** Back to the pool, if nothing can still read it and it is the usual size (else the garbage collector takes it). */
export function returnChunk(c: Chunk): void {
  if (c.live === 0 && !c.lent && c.buf.length === CHUNK_BYTES && pool.length < POOL_MAX && !pool.includes(c.buf)) pool.push(c.buf);
}

/**
 * Empty the pool (an idle agent keeps no slab: a 4 MiB slab written once stays resident, and the idle budget is
 * 70 MB). Called by a lane that has been idle for a while; a busy lane elsewhere simply takes fresh slabs.
 */
export function releasePooledChunks(): number {
  const n = pool.length;
  pool.length = 0;
  return n;
}

/** Slabs waiting in the pool (tests, status). */
export function pooledChunks(): number {
  return pool.length;
}

/** A bound on the slabs several writers hold together (e.g. every segment log's in-memory copies). */
export interface SlabCap { held: number; readonly max: number }

/**
 * Batches copied back to back into slabs, for one store: the slab being filled, the slabs holding unacknowledged
 * copies, the one last read (lent for good if a request that never finished may still read it). A slab whose
 * copies are all acknowledged is filled again from the start while it is the current one, else pooled.
 * With a cap, a copy is given up (null) when it is larger than a slab or the cap's slabs are all held.
 */
export class SlabCopies {
  private current: Chunk | null = null;
  private lastRead: Chunk | null = null;
  private readonly held = new Set<Chunk>();

  constructor(private readonly cap: SlabCap | null = null) {}

  /** Copy `payload`; it ends at the returned slab's `used`. Null: given up (only with a cap). */
  copy(payload: Buffer): Chunk | null {
    const n = payload.length;
    if (this.cap && n > CHUNK_BYTES) return null;
    let c = this.current;
    if (!c || c.used + n > c.buf.length) {
      if (c && c.live === 0) this.drop(c); // emptied but current: no acknowledgement will come for it any more
      this.current = null;
      if (this.cap && this.cap.held >= this.cap.max) return null;
      c = takeChunk(n);
      this.held.add(c);
      if (this.cap) this.cap.held++;
      this.current = c;
    }
    payload.copy(c.buf, c.used);
    c.used += n;
    c.live++;
    return c;
  }

  /** The bytes of a copy, remembered as the last read (see detachRead). */
  read(c: Chunk, at: number, len: number): Buffer {
    this.lastRead = c;
    return c.buf.subarray(at, at + len);
  }

  /** The last read was served from elsewhere (a file). */
  readElsewhere(): void {
    this.lastRead = null;
  }

  /** The last read's slab may still be read by a request that never finished: never refill nor pool it. False: no slab was read. */
  detachRead(): boolean {
    const c = this.lastRead;
    if (!c) return false;
    c.lent = true;
    if (c.live === 0) this.drop(c);
    return true;
  }

  /** A copy in `c` was acknowledged. */
  release(c: Chunk): void {
    if (--c.live > 0) return;
    if (c === this.current && !c.lent) c.used = 0; // empty: fill it again from the start
    else this.drop(c);
  }

  /** Idle: the emptied current slab goes back to the pool. */
  trim(): void {
    if (this.current?.live === 0) this.drop(this.current);
  }

  /** Every slab let go: emptied ones pooled, the others (copies of batches kept elsewhere) left to the collector. */
  close(): void {
    for (const c of this.held) returnChunk(c);
    if (this.cap) this.cap.held -= this.held.size;
    this.held.clear();
    this.current = null;
    this.lastRead = null;
  }

  private drop(c: Chunk): void {
    if (c === this.current) this.current = null;
    if (!this.held.delete(c)) return;
    if (this.cap) this.cap.held--;
    returnChunk(c);
  }
}
