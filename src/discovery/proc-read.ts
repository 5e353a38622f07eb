// Tolerant readers for /proc files: a process can vanish between listing and reading, a file can be unreadable
// or unexpectedly large. Every reader returns undefined instead of throwing and reads a bounded prefix.
import { open, readlink, readdir } from 'node:fs/promises';

/** Read at most `max` bytes of a file; undefined on any error (ENOENT, EACCES, ESRCH…). */
export async function readBounded(path: string, max = 64 * 1024): Promise<Buffer | undefined> {
  let fh;
  try {
    fh = await open(path, 'r');
    const buf = Buffer.allocUnsafe(max);
    let off = 0;
    // /proc files report size 0: read until EOF or the cap.
    while (off < max) {
      const { bytesRead } = await fh.read(buf, off, max - off, null);
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
