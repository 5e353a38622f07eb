// The libbpf version the agent runs against, for `telegen version`. Read from the installed shared library's
// package until the native addon (eBPF core) reports it itself.
import { execFileSync } from 'node:child_process';

export function libbpfVersion(): string {
  try {
    const out = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'libbpf1'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const m = /(\d+\.\d+\.\d+)/.exec(out);
    return m ? m[1]! : 'unknown';
  } catch {
    return 'not installed';
  }
}
