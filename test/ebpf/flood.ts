// Mirror of bpf/fixtures/flood.h (test/bench fixture) and a loader for the flood object.
import type { EbpfCore } from '../../src/ebpf/core.js';
import { bpfObjectPath } from '../../src/ebpf/paths.js';

export const FloodEventLayout = { seq: 16, pid: 24, cpu: 28, value: 32, SIZE: 56 } as const;

export interface FloodEvent { seq: number; pid: number; cpu: number; value: number }

export function decodeFloodEvent(buf: Buffer, off: number): FloodEvent {
  const L = FloodEventLayout;
  return {
    seq: Number(buf.readBigUInt64LE(off + L.seq)),
    pid: buf.readUInt32LE(off + L.pid),
    cpu: buf.readUInt32LE(off + L.cpu),
    value: Number(buf.readBigUInt64LE(off + L.value)),
  };
}

/** Load the flood fixture: each getpriority(2) of `pid` submits `burst` events. */
export function loadFlood(core: EbpfCore, name: string, pid: number, burst: number) {
  const h = core.loadObject({ name, objectFile: bpfObjectPath('flood'), rodata: { target_tgid: pid, burst }, attach: ['flood_trigger'] });
  return {
    handle: h,
    /** Events the BPF side tried to submit (sum over CPUs). */
    attempts(): number {
      const v = h.map('flood_attempts').lookup(Buffer.alloc(4));
      let n = 0;
      for (let o = 0; v && o + 8 <= v.length; o += 8) n += Number(v.readBigUInt64LE(o));
      return n;
    },
  };
}
