// The common event header (bpf/events.h `struct telegen_event_header`) and the process event, mirrored from
// the C layouts; test/ebpf/layouts.test.ts checks these offsets against the header compiled by the C compiler.
import type { ProcessEvent } from './core.js';

export const EventHeaderLayout = { kind: 0, size: 4, timestamp_ns: 8, SIZE: 16 } as const;

export const ProcessEventLayout = {
  pid: 16, ppid: 20, type: 24, exit_code: 28, comm: 32, SIZE: 48,
} as const;

const PROCESS_EXEC = 1;

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
    type: buf.readUInt32LE(off + L.type) === PROCESS_EXEC ? 'exec' : 'exit',
    pid: buf.readUInt32LE(off + L.pid),
    ppid: buf.readUInt32LE(off + L.ppid),
    comm: cString(buf, off + L.comm, 16),
  };
}
