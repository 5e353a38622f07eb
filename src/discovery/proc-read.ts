// Tolerant readers for /proc files: a process can vanish between listing and reading, a file can be unreadable
// or unexpectedly large. Every reader returns undefined instead of throwing and reads a bounded prefix.
import { closeSync, openSync, readSync, readdirSync, readlinkSync } from 'node:fs';
import { open, readlink, readdir } from 'node:fs/promises';

/**
 * Read at most `max` bytes of a file; undefined on any error (ENOENT, EACCES, ESRCH…). The buffer starts small
 * and doubles as needed: most /proc files are far below their bound (a 1 MiB maps bound per exec'd process
 * otherwise allocates 1 MiB each time).
 */
export async function readBounded(path: string, max = 64 * 1024): Promise<Buffer | undefined> {
  let fh;
  try {
    fh = await open(path, 'r');
    let buf = Buffer.allocUnsafe(Math.min(max, 16 * 1024));
    let off = 0;
    // /proc files report size 0: read until EOF or the cap.
    while (off < max) {
      if (off === buf.length) {
        const bigger = Buffer.allocUnsafe(Math.min(max, buf.length * 2));
        buf.copy(bigger, 0, 0, off);
        buf = bigger;
      }
      const { bytesRead } = await fh.read(buf, off, buf.length - off, null);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    return buf.subarray(0, off);
  } catch {
    return undefined;
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

export async function readText(path: string, max?: number): Promise<string | undefined> {
  return (await readBounded(path, max))?.toString('utf8');
}

export async function readLink(path: string): Promise<string | undefined> {
  try {
    return await readlink(path);
  } catch {
    return undefined;
  }
}

export async function listDir(path: string): Promise<string[] | undefined> {
  try {
    return await readdir(path);
  } catch {
    return undefined;
  }
}

/** Run `fn` over `items` with at most `limit` in flight (bounded fan-out over thousands of pids). */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

// ---- synchronous readers for the periodic rescan ----
// A rescan reads a handful of tiny /proc files per process (stat, status, links). Through the libuv thread pool
// each read is 3–4 round trips (open, read, read, close) and a wake-up of a pool thread; read synchronously it is
// a few microseconds of the main thread. Only files that never block on another process's locks are read this
// way (stat, status, links, fd lists, /proc/net tables) — cmdline, environ and maps, which take the target's mmap
// lock, stay asynchronous.

/** One scratch buffer for every synchronous read (grown up to the largest bound asked for, then shrunk back). */
let scratch = Buffer.allocUnsafe(16 * 1024);
const SCRATCH_KEEP = 256 * 1024;

function readIntoScratch(path: string, max: number): number | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    let off = 0;
    for (;;) {
      if (off === scratch.length) {
        if (scratch.length >= max) break;
        const bigger = Buffer.allocUnsafe(Math.min(max, scratch.length * 2));
        scratch.copy(bigger, 0, 0, off);
        scratch = bigger;
      }
      const n = readSync(fd, scratch, off, Math.min(max, scratch.length) - off, null);
      if (n === 0) break;
      off += n;
      if (off >= max) break;
    }
    return off;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Synchronous readText: at most `max` bytes as UTF-8, undefined on any error. */
export function readTextSync(path: string, max = 64 * 1024): string | undefined {
  const n = readIntoScratch(path, max);
  const text = n === undefined ? undefined : scratch.toString('utf8', 0, n);
  if (scratch.length > SCRATCH_KEEP) scratch = Buffer.allocUnsafe(16 * 1024);
  return text;
}

export function readLinkSync(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

export function listDirSync(path: string): string[] | undefined {
  try {
    return readdirSync(path);
  } catch {
    return undefined;
  }
}
