// The common event header (bpf/events.h `struct telegen_event_header`) and the process event, mirrored from
// the C layouts; test/ebpf/layouts.test.ts checks these offsets against the header compiled by the C compiler.
import type { ProcessEvent } from './core.js';

export const EventHeaderLayout = { kind: 0, size: 4, timestamp_ns: 8, SIZE: 16 } as const;

export const ProcessEventLayout = {
  pid: 16, ppid: 20, type: 24, exit_code: 28, comm: 32, SIZE: 48,
} as const;

/** enum telegen_process_event_type (bpf/events.h), by number. */
const PROCESS_TYPES: Record<number, ProcessEvent['type']> = { 1: 'exec', 2: 'exit', 3: 'listen' };

/** NUL-terminated C string of at most `len` bytes. */
export function cString(buf: Buffer, off: number, len: number): string {
  let end = off;
  const max = off + len;
  while (end < max && buf[end] !== 0) end++;
  return buf.toString('utf8', off, end);
}

export function decodeProcessEvent(buf: Buffer, off: number): ProcessEvent {
  const L = ProcessEventLayout;
  return {
    type: PROCESS_TYPES[buf.readUInt32LE(off + L.type)] ?? 'exit',
    pid: buf.readUInt32LE(off + L.pid),
    ppid: buf.readUInt32LE(off + L.ppid),
    comm: cString(buf, off + L.comm, 16),
  };
}
