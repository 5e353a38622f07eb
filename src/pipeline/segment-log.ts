// A persistent FIFO of encoded batches for one signal: append-only segment files of checksummed records under
// <directory>/<signal>/, an `ack` cursor written atomically after the backend acknowledged batches, and
// segments deleted once every record in them is acknowledged. On open, a torn or corrupt tail (short header,
// bad magic, length past the end, CRC mismatch) is truncated and counted — never a crash loop.
// Writes are plain write(2) calls (no fsync per batch): a killed process loses nothing already appended; a
// power loss may lose the last moments.
// Sent from memory: append also copies the batch into a pooled 4 MiB slab (./chunk-pool.ts; a memcpy, ~3x
// cheaper than reading it back with pread(2)), and read() lends those bytes. Only a batch whose copy was given up
// is read back from the file: recovered after a restart, larger than a slab, or appended while the slabs held
// by segment logs were at their cap (MEMORY_CHUNKS: a long outage's backlog lives on disk, not in RSS) — counted
// in `memory.readBack`. The read-back buffer grows geometrically to the largest batch and is given back when the
// lane is idle (trim) if it grew past 1 MiB.
// The ack cursor is one fixed-size line rewritten in place with pwrite(2), carrying its own CRC: a torn or
// unreadable cursor means "nothing acknowledged", i.e. duplicates after a restart, never a cursor pointing into
// the middle of a record. It is written at most every CURSOR_DELAY_MS (and at close), not once per batch: a
// crash replays at most that much of what was acknowledged — duplicates, which at-least-once allows.
import { closeSync, fstatSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, unlinkSync, writeSync, writevSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { SlabCopies, type Chunk, type SlabCap } from './chunk-pool.js';
import type { BatchStore, DiskBudget, StoredBatch } from './store.js';

const MAGIC = 0x31514754; // "TGQ1" little-endian: the payload is protobuf
const MAGIC_GZIP = 0x315a4754; // "TGZ1": the payload is gzip-compressed protobuf
export const RECORD_HEADER = 20; // magic u32, payload length u32, item count u32, data-point count u32, crc32(counts ‖ payload) u32
const MAX_RECORD = 256 * 1024 * 1024;
/** The read-back buffer is kept across idle periods up to this size (a 2048-span batch is ~620 KB). */
const KEEP_READ_BUFFER = 1024 * 1024;
const EMPTY = Buffer.alloc(0);
/** Slabs held by all segment logs of the process together (4 MiB each): the in-memory copies' bound. */
const MEMORY_CHUNKS: SlabCap = { held: 0, max: 8 };
/** The ack cursor is rewritten at most this often while batches are being acknowledged. */
export const CURSOR_DELAY_MS = 50;

/** chunk/at: the in-memory copy of the payload, when kept. */
interface Entry extends StoredBatch { seg: number; offset: number; len: number; chunk: Chunk | null; at: number }

/** Batches appended with an in-memory copy, and batches sent after reading them back from the segment file. */
export interface MemoryStats { kept: number; readBack: number }

export interface RecoveryStats { records: number; items: number; truncatedBytes: number; corruptRecords: number }

export class SegmentLog implements BatchStore {
  private readonly entries: Entry[] = [];
  private head = 0; // index into entries of the oldest unacknowledged batch
  private readonly segBytes = new Map<number, number>(); // segment number → bytes on disk
  private readonly readFds = new Map<number, number>();
  private activeSeg = 0;
  private activeFd: number | null = null;
  private nextId = 1;
  private items = 0;
  private readBuf = EMPTY;
  private cursorFd: number | null = null;
  /** The cursor not yet written (acknowledged since the last write), and the timer that writes it. */
  private cursorDue: { seg: number; offset: number } | null = null;
  private cursorTimer: NodeJS.Timeout | null = null;
  private readonly slabs = new SlabCopies(MEMORY_CHUNKS);
  readonly memory: MemoryStats = { kept: 0, readBack: 0 };
  readonly recovery: RecoveryStats = { records: 0, items: 0, truncatedBytes: 0, corruptRecords: 0 };

  constructor(private readonly dir: string, private readonly budget: DiskBudget, private readonly segmentSize = 4 * 1024 * 1024) {
    mkdirSync(dir, { recursive: true });
    this.recover();
  }

  /** Append one batch; false when the disk cap (or the disk) refuses it — the caller counts the drop. */
  append(payload: Buffer, count: number, points = count, gzip = false): boolean {
    const size = RECORD_HEADER + payload.length;
    if (!this.budget.reserve(size)) return false;
    try {
      if (this.activeFd === null || (this.segBytes.get(this.activeSeg) ?? 0) >= this.segmentSize) this.roll();
      const header = Buffer.allocUnsafe(RECORD_HEADER);
      header.writeUInt32LE(gzip ? MAGIC_GZIP : MAGIC, 0);
      header.writeUInt32LE(payload.length, 4);
      header.writeUInt32LE(count, 8);
      header.writeUInt32LE(points, 12);
      header.writeUInt32LE(crc32(payload, crc32(header.subarray(8, 16))), 16);
      const offset = this.segBytes.get(this.activeSeg) ?? 0;
      writeAll(this.activeFd!, header, payload, offset);
      this.segBytes.set(this.activeSeg, offset + size);
      const chunk = this.slabs.copy(payload); // null: given up (larger than a slab, or the cap) — read back then
      if (chunk) this.memory.kept++;
      this.entries.push({ id: this.nextId++, seg: this.activeSeg, offset, len: payload.length, count, points, bytes: size, gzip, chunk, at: chunk ? chunk.used - payload.length : 0 });
      this.items += count;
      return true;
    } catch {
      // ENOSPC or any write failure: undo the reservation; a partial record is a torn tail that the next
      // open truncates, and the next append starts a fresh segment so nothing follows the torn bytes.
      this.budget.release(size);
      this.closeActive();
      return false;
    }
  }

  peek(): StoredBatch | undefined {
    return this.entries[this.head];
  }

  read(b: StoredBatch): Buffer {
    const e = b as Entry;
    if (e.chunk) return this.slabs.read(e.chunk, e.at, e.len);
    this.slabs.readElsewhere();
    this.memory.readBack++;
    let fd = this.readFds.get(e.seg);
    if (fd === undefined) {
      fd = openSync(this.segPath(e.seg), 'r');
      this.readFds.set(e.seg, fd);
    }
    if (this.readBuf.length < e.len) this.readBuf = Buffer.allocUnsafeSlow(Math.max(e.len, this.readBuf.length * 2, 64 * 1024));
    const out = this.readBuf.subarray(0, e.len);
    let done = 0;
    while (done < e.len) {
      const n = readSync(fd, out, done, e.len - done, e.offset + RECORD_HEADER + done);
      if (n === 0) throw new Error(`segment ${e.seg}: record at ${e.offset} is cut short`);
      done += n;
    }
    return out;
  }

  detachRead(): void {
    // The next read() allocates; the old buffer stays with whoever still holds it.
    if (!this.slabs.detachRead()) this.readBuf = EMPTY;
  }

  trim(): void {
    if (this.readBuf.length > KEEP_READ_BUFFER) this.readBuf = EMPTY;
    this.slabs.trim(); // idle: the empty slab goes back to the pool
  }

  /** The oldest batch was acknowledged (or dropped for good): move the cursor, delete finished segments. */
  ack(b: StoredBatch): void {
    const e = this.entries[this.head];
    if (!e || e.id !== b.id) return;
    this.head++;
    this.items -= e.count;
    if (e.chunk) this.slabs.release(e.chunk);
    const next = this.entries[this.head];
    if (!next || next.seg !== e.seg) this.deleteSegment(e.seg);
    // Compact the index now and then so it does not grow with everything ever sent.
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries.splice(0, this.head);
      this.head = 0;
    }
    this.cursorDue = next ? { seg: next.seg, offset: next.offset } : { seg: e.seg + 1, offset: 0 };
    this.cursorTimer ??= setTimeout(() => {
      this.cursorTimer = null;
      this.flushCursor();
    }, CURSOR_DELAY_MS).unref();
  }

  /** Write the ack cursor now if acknowledgements are pending (close() does it too). */
  flushCursor(): void {
    if (this.cursorTimer) clearTimeout(this.cursorTimer);
    this.cursorTimer = null;
    const c = this.cursorDue;
    this.cursorDue = null;
    if (c) this.writeCursor(c);
  }

  pendingItems(): number {
    return this.items;
  }

  pendingBatches(): number {
    return this.entries.length - this.head;
  }

  close(): void {
    this.flushCursor();
    // Slabs still holding unacknowledged batches go to the garbage collector (the batches are on disk).
    this.slabs.close();
    this.closeActive();
    if (this.cursorFd !== null) closeSync(this.cursorFd);
    this.cursorFd = null;
    for (const fd of this.readFds.values()) closeSync(fd);
    this.readFds.clear();
  }

  private roll(): void {
    this.closeActive();
    this.activeSeg = Math.max(this.activeSeg, ...this.segBytes.keys()) + 1;
    this.activeFd = openSync(this.segPath(this.activeSeg), 'w');
    this.segBytes.set(this.activeSeg, 0);
  }

  private closeActive(): void {
    if (this.activeFd !== null) closeSync(this.activeFd);
    this.activeFd = null;
  }

  private deleteSegment(seg: number): void {
    if (seg === this.activeSeg) this.closeActive();
    const fd = this.readFds.get(seg);
    if (fd !== undefined) closeSync(fd);
    this.readFds.delete(seg);
    try {
      unlinkSync(this.segPath(seg));
    } catch {
      // Already gone: nothing to free.
    }
    this.budget.release(this.segBytes.get(seg) ?? 0);
    this.segBytes.delete(seg);
  }

  private segPath(seg: number): string {
    return segmentPath(this.dir, seg);
  }

  private writeCursor(c: { seg: number; offset: number }): void {
    // Best effort: if it fails (disk full) the batches are sent again after a restart — duplicates, not loss.
    try {
      this.cursorFd ??= openSync(join(this.dir, 'ack'), 'w');
      const line = Buffer.from(cursorLine(c.seg, c.offset), 'latin1');
      writeAll(this.cursorFd, line, null, 0);
    } catch {
      // Counted nowhere on purpose: the only effect is a possible duplicate delivery after restart.
    }
  }

  private recover(): void {
    const cursor = readAckCursor(this.dir);
    for (const seg of segmentNumbers(this.dir)) {
      const path = this.segPath(seg);
      if (seg < cursor.seg) {
        unlinkSync(path);
        continue;
      }
      const fd = openSync(path, 'r+');
      try {
        const size = fstatSync(fd).size;
        const start = seg === cursor.seg ? Math.min(cursor.offset, size) : 0;
        const end = this.scan(fd, seg, start, size);
        if (end < size) {
          ftruncateSync(fd, end);
          this.recovery.truncatedBytes += size - end;
          this.recovery.corruptRecords++;
        }
        if (end === 0 || end === start) {
          closeSync(fd);
          unlinkSync(path);
          continue;
        }
        this.segBytes.set(seg, end);
        this.budget.reserve(end, true);
      } finally {
        try { closeSync(fd); } catch { /* closed above */ }
      }
      this.activeSeg = Math.max(this.activeSeg, seg);
    }
    this.activeSeg = Math.max(this.activeSeg, cursor.seg);
    this.recovery.records = this.entries.length;
    this.recovery.items = this.items;
  }

  /** Index valid records in [start, size); returns where the valid data ends. */
  private scan(fd: number, seg: number, start: number, size: number): number {
    const header = Buffer.allocUnsafe(RECORD_HEADER);
    let pos = start;
    while (pos + RECORD_HEADER <= size) {
      readSync(fd, header, 0, RECORD_HEADER, pos);
      const r = parseRecordHeader(header, size - pos);
      if (!r) break;
      const payload = Buffer.allocUnsafe(r.len);
      readSync(fd, payload, 0, r.len, pos + RECORD_HEADER);
      if (!recordChecksumOk(header, payload)) break;
      this.entries.push({ id: this.nextId++, seg, offset: pos, len: r.len, count: r.count, points: r.points, bytes: RECORD_HEADER + r.len, gzip: r.gzip, chunk: null, at: 0 });
      this.items += r.count;
      pos += RECORD_HEADER + r.len;
    }
    return pos;
  }
}

// The on-disk format's read side, shared by recovery and by tools that only look (tests read a running agent's
// queue with these, never through recovery, which truncates).

export function segmentPath(dir: string, seg: number): string {
  return join(dir, `${String(seg).padStart(12, '0')}.seg`);
}

/** Segment numbers in `dir`, oldest first. */
export function segmentNumbers(dir: string): number[] {
  return readdirSync(dir).map((n) => /^(\d{12})\.seg$/.exec(n)).filter((m) => m !== null)
    .map((m) => Number(m[1])).sort((a, b) => a - b);
}

/** The ack cursor in `dir`; the start when it is missing, torn or foreign (duplicates, never a skipped record). */
export function readAckCursor(dir: string): { seg: number; offset: number } {
  try {
    const m = /^(\d+) (\d+) ([0-9a-f]{8})\n/.exec(readFileSync(join(dir, 'ack'), 'latin1'));
    if (m) {
      const seg = Number(m[1]);
      const offset = Number(m[2]);
      if (Number.isSafeInteger(seg) && Number.isSafeInteger(offset) && cursorLine(seg, offset) === m[0]) return { seg, offset };
    }
  } catch {
    // No cursor yet: everything on disk is unacknowledged.
  }
  return { seg: 0, offset: 0 };
}

/** A record's header (RECORD_HEADER bytes) when it is one and its payload fits in the `available` bytes from its start. */
export function parseRecordHeader(header: Buffer, available: number): { len: number; count: number; points: number; gzip: boolean } | undefined {
  const magic = header.readUInt32LE(0);
  const len = header.readUInt32LE(4);
  if ((magic !== MAGIC && magic !== MAGIC_GZIP) || len > MAX_RECORD || RECORD_HEADER + len > available) return undefined;
  return { len, count: header.readUInt32LE(8), points: header.readUInt32LE(12), gzip: magic === MAGIC_GZIP };
}

/** Whether the payload matches the header's CRC (over the counts and the payload). */
export function recordChecksumOk(header: Buffer, payload: Buffer): boolean {
  return crc32(payload, crc32(header.subarray(8, 16))) === header.readUInt32LE(16);
}

/** Fixed width (42 bytes), so rewriting it in place never leaves a longer old line's tail behind. */
function cursorLine(seg: number, offset: number): string {
  const body = `${String(seg).padStart(16, '0')} ${String(offset).padStart(16, '0')}`;
  return `${body} ${crc32(body).toString(16).padStart(8, '0')}\n`;
}

/** header ‖ payload at `position` in one writev(2) (the rest by write(2) in the rare short-write case). */
function writeAll(fd: number, header: Buffer, payload: Buffer | null, position: number): void {
  const total = header.length + (payload?.length ?? 0);
  let done = payload ? writevSync(fd, [header, payload], position) : writeSync(fd, header, 0, header.length, position);
  while (done < total) {
    const [b, off] = done < header.length ? [header, done] : [payload!, done - header.length];
    done += writeSync(fd, b, off, b.length - off, position + done);
  }
}
