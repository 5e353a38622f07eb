// Keys and values of BPF maps as the kernel lays them out (little-endian on every architecture we build for).

/** A __u32 key or value. */
export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n, 0);
  return b;
}
