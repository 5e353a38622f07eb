// The part of a verifier log a person needs: its last lines (where the kernel says why it refused), short
// enough for /ready and a log line.
const MAX_LINES = 8;
const MAX_CHARS = 600;

/** "" when there is no log, else ": <last lines joined by ' | '>". */
export function verifierExcerpt(log: string): string {
  // The verifier's own log is at the end (after libbpf's messages); its statistics line says nothing useful.
  const lines = log.split('\n').map((l) => l.trim())
    .filter((l) => l && !/^-- (BEGIN|END) PROG LOAD LOG --$/.test(l) && !/^processed \d+ insns/.test(l) && !/^verification time/.test(l) && !/^stack depth/.test(l));
  if (lines.length === 0) return '';
  let text = lines.slice(-MAX_LINES).join(' | ');
  if (text.length > MAX_CHARS) text = `…${text.slice(-MAX_CHARS)}`;
  return `: ${text}`;
}
