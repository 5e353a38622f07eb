// Go version from a binary's `.go.buildinfo` ELF section (Go ≥1.18 inline-string format; older binaries are
// still recognised as Go with an empty version). Reads only the ELF and section headers plus the section's
// first bytes, never the whole (often 10+ MB) executable.
import { open } from 'node:fs/promises';

const MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');

export interface GoBuildInfo { version: string }

/** Undefined when the file is not an ELF Go binary (or unreadable). */
export async function readGoBuildInfo(path: string): Promise<GoBuildInfo | undefined> {
  let fh;
  try {
    fh = await open(path, 'r');
    const ehdr = Buffer.alloc(64);
    await fh.read(ehdr, 0, 64, 0);
    if (ehdr.readUInt32BE(0) !== 0x7f454c46) return undefined;
    const is64 = ehdr[4] === 2;
    const le = ehdr[5] === 1;
    if (!is64 || !le) return undefined; // 32-bit / big-endian hosts: not worth the code here.
    const shoff = Number(ehdr.readBigUInt64LE(0x28));
    const shentsize = ehdr.readUInt16LE(0x3a);
    const shnum = ehdr.readUInt16LE(0x3c);
    const shstrndx = ehdr.readUInt16LE(0x3e);
    if (shnum === 0 || shnum > 4096 || shentsize < 64 || shstrndx >= shnum) return undefined;
    const sh = Buffer.alloc(shnum * shentsize);
    await fh.read(sh, 0, sh.length, shoff);
    const strOff = Number(sh.readBigUInt64LE(shstrndx * shentsize + 0x18));
    const strSize = Math.min(Number(sh.readBigUInt64LE(shstrndx * shentsize + 0x20)), 64 * 1024);
    const names = Buffer.alloc(strSize);
    await fh.read(names, 0, strSize, strOff);
    for (let i = 0; i < shnum; i++) {
      const base = i * shentsize;
      const nameOff = sh.readUInt32LE(base);
      const end = names.indexOf(0, nameOff);
      if (names.toString('latin1', nameOff, end < 0 ? undefined : end) !== '.go.buildinfo') continue;
      const off = Number(sh.readBigUInt64LE(base + 0x18));
      const head = Buffer.alloc(512);
      const { bytesRead } = await fh.read(head, 0, head.length, off);
      if (bytesRead < 33 || !head.subarray(0, 14).equals(MAGIC)) return { version: '' };
      const flags = head[15]!;
      if ((flags & 2) === 0) return { version: '' }; // pre-1.18 pointer format
      const [len, n] = uvarint(head, 32);
      return { version: head.toString('utf8', 32 + n, Math.min(32 + n + len, bytesRead)) };
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

function uvarint(buf: Buffer, at: number): [number, number] {
  let x = 0;
  let shift = 0;
  for (let i = 0; i < 5 && at + i < buf.length; i++) {
    const b = buf[at + i]!;
    x += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [x, i + 1];
    shift += 7;
  }
  return [0, 1];
}
