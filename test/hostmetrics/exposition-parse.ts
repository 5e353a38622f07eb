// A small parser of the Prometheus text format for the tests (families with help/type, series keyed by labels).
export interface ParsedFamily { help: string; type: string; series: Map<string, number> }

export function parseExposition(text: string): Map<string, ParsedFamily> {
  const out = new Map<string, ParsedFamily>();
  const fam = (name: string): ParsedFamily => {
    let f = out.get(name);
    if (!f) out.set(name, (f = { help: '', type: 'untyped', series: new Map() }));
    return f;
  };
  for (const line of text.split('\n')) {
    if (!line) continue;
    let m = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (m) {
      if (m[1] === 'HELP') fam(m[2]!).help = m[3]!.replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
      else fam(m[2]!).type = m[3]!;
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparsable exposition line: ${line}`);
    const labels: Array<[string, string]> = [];
    for (const lm of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels.push([lm[1]!, lm[2]!]);
    labels.sort((a, b) => (a[0] < b[0] ? -1 : 1));
    fam(m[1]!).series.set(labels.map(([k, v]) => `${k}=${v}`).join(','), Number(m[3]));
  }
  return out;
}
