// Text forms of the raw addresses the kernel hands us (network byte order), shared by every decoder.

/** Dotted quad of the 4 bytes at `at`. */
export function formatIPv4(buf: Buffer, at: number): string {
  return `${buf[at]}.${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}`;
}

/** RFC 5952 text of the 16 bytes at `at`; an IPv4-mapped address (::ffff:a.b.c.d) as plain IPv4. */
export function formatIPv6(buf: Buffer, at: number): string {
  let mapped = true;
  for (let i = 0; i < 10; i++) if (buf[at + i] !== 0) mapped = false;
  if (mapped && buf[at + 10] === 0xff && buf[at + 11] === 0xff) return formatIPv4(buf, at + 12);
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(buf.readUInt16BE(at + i).toString(16));
  // Compress the longest run (of at least two) of zero groups.
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) { best = i; bestLen = j - i; }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}
