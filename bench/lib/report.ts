// Writes one benchmark's latest results into its own section of docs/benchmarks.md (between markers), with
// the machine description, leaving every other benchmark's section as it is.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';

export function machineDescription(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${os.release()}, Node ${process.version}`;
}

/** Replace (or append) the section `name` of docs/benchmarks.md with `markdown`. */
export function writeBenchSection(name: string, markdown: string, file = 'docs/benchmarks.md'): void {
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const body = `${start}\n## ${name}\n\n_Run ${new Date().toISOString()} on ${machineDescription()}._\n\n${markdown.trim()}\n${end}`;
  let doc = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n\nLatest results of `npm run bench:<name>`; each benchmark rewrites only its own section.\n';
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  doc = i >= 0 && j > i ? doc.slice(0, i) + body + doc.slice(j + end.length) : `${doc.trimEnd()}\n\n${body}\n`;
  writeFileSync(file, doc);
}
