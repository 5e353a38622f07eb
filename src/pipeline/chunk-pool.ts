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
