// Counters kept per CPU in BPF (PERCPU_ARRAY values: one slot of `fields` u64 per possible CPU, 8-byte aligned)
// are read in one lookup and summed here.

/** The per-CPU value of `fields` u64 counters, summed over CPUs: one total per field (zeros for no value). */
export function sumPerCpu(value: Buffer | null | undefined, fields = 1): number[] {
  const totals = new Array<number>(fields).fill(0);
  if (!value) return totals;
  const slot = fields * 8;
  for (let at = 0; at + slot <= value.length; at += slot) {
    for (let f = 0; f < fields; f++) totals[f]! += Number(value.readBigUInt64LE(at + f * 8));
  }
  return totals;
}

/** One field of the per-CPU value, CPU by CPU (index = CPU id): what sumPerCpu adds up. */
export function perCpuField(value: Buffer | null | undefined, fields: number, field: number): number[] {
  const out: number[] = [];
  if (!value) return out;
  const slot = fields * 8;
  for (let at = 0; at + slot <= value.length; at += slot) out.push(Number(value.readBigUInt64LE(at + field * 8)));
  return out;
}
